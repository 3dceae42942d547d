"""Learning rate of the translation page, chosen on its validation split (PyTorch twin, cpu budget's steps).

python benchmarks/seq2seq_lr.py BATCH HIDDEN STEPS LR RATIO: validation BLEU of the three decoders,
and BLEU per French sentence length. The splits are the page's (seed 0: 2,000 test pairs, then
1,000 validation pairs); the test pairs are never scored here.
"""
import sys
import time

import numpy as np
import sacrebleu
import torch

import torchflow  # noqa: F401
from torchflow.data.translation import load_fra_eng
from torchflow.data.sentences import prepare_pairs, encode_batch, split_indices
from torchflow.pt import seq2seq as P
from torchflow.training import batch_indices
pairs, sv, tv = prepare_pairs(load_fra_eng().pairs)
src, sl = encode_batch([a for a,_ in pairs], sv, 10); tgt, tl = encode_batch([b for _,b in pairs], tv, 10)
train, _test, val = split_indices(len(pairs), [2000, 1000], seed=0)
B,H,steps,lr,ratio=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3]),float(sys.argv[4]),float(sys.argv[5])
rng=np.random.default_rng(0)
teacher=rng.random((steps,10))<ratio
for name, kw in [("DecoderRNN",{}),("AttnDecoderRNN",{"max_length":10}),("LuongAttnDecoderRNN",{"method":"general"})]:
    torch.manual_seed(0)
    e=P.EncoderRNN(len(sv),H); d=getattr(P,name)(len(tv),H,**kw)
    opt=torch.optim.Adam([*e.parameters(),*d.parameters()], lr=lr)
    t0=time.process_time(); losses=[]
    for i,idx in enumerate(batch_indices(len(train),B,steps)):
        idx=train[idx]
        loss=P.decode_loss(e,d,torch.as_tensor(src[idx]),torch.as_tensor(sl[idx]),torch.as_tensor(tgt[idx]),torch.as_tensor(teacher[i]))
        opt.zero_grad(); loss.backward(); opt.step(); losses.append(loss.item())
    t=time.process_time()-t0
    out,_=P.greedy_decode(e,d,torch.as_tensor(src[val]),torch.as_tensor(sl[val]))
    hyp=[tv.decode(r) for r in out.numpy()]; ref=[pairs[i][1] for i in val]
    bleu=sacrebleu.corpus_bleu(hyp,[ref]).score; em=np.mean([h==r for h,r in zip(hyp,ref)])
    lens=np.array([len(pairs[i][0].split()) for i in val])
    bylen={L: round(sacrebleu.corpus_bleu([h for h,l in zip(hyp,lens) if l==L],[[r for r,l in zip(ref,lens) if l==L]]).score,1) for L in range(3,10)}
    print(name, f"{t:.1f}s loss {np.mean(losses[-50:]):.3f} bleu {bleu:.1f} em {em:.3f}", bylen, hyp[:2], ref[:2], flush=True)
