"""Learning rate of the translation page, chosen on its validation split (the PyTorch twins, the cpu budget's steps).

    python studies/seq2seq/learning-rates/study.py LEARNING_RATE [STEPS] [HIDDEN] [BATCH] [TEACHER_FORCING_RATIO] \
        [DECODERS]

prints the validation BLEU and exact match of the decoders (DECODERS: a comma-separated subset of
plain,notes,content; all three by default) and their BLEU per French sentence length.
The splits are the page's (seed 0: 2,000 test pairs, then 1,000 validation pairs); the test pairs are
never scored here. Results: ``studies/seq2seq/learning-rates/results.md``.
"""

import sys
import time

import numpy as np
import torch

import torchflow  # noqa: F401  (thread and import-order settings)
from torchflow.data.translation import load_fra_eng
from torchflow.metrics import corpus_bleu, exact_match
from torchflow.prep.sentences import encode_batch, prepare_pairs
from torchflow.prep.split import split
from torchflow.pt import seq2seq
from torchflow.training import batch_indices

learning_rate = float(sys.argv[1])
steps, hidden, batch = (int(a) for a in sys.argv[2:5]) if len(sys.argv) > 4 else (600, 64, 64)
ratio = float(sys.argv[5]) if len(sys.argv) > 5 else 0.5
chosen = sys.argv[6].split(",") if len(sys.argv) > 6 else ["plain", "notes", "content"]
MAX_LENGTH = 19  # the page's
pairs, french, english = prepare_pairs(load_fra_eng().pairs, max_words=MAX_LENGTH)
source, lengths = encode_batch([fr for fr, _ in pairs], french, MAX_LENGTH)
target, _ = encode_batch([en for _, en in pairs], english, MAX_LENGTH)
parts = split(len(pairs), test=2000, validation=1000, seed=0)
train, validation = parts.train, parts.validation
teacher = np.random.default_rng(1).random((steps, MAX_LENGTH)) < ratio
references = [pairs[i][1] for i in validation]
words = np.array([len(pairs[i][0].split()) for i in validation])
DECODERS = {"plain": ("DecoderRNN", {}), "notes": ("AttnDecoderRNN", {"max_length": MAX_LENGTH}),
            "content": ("LuongAttnDecoderRNN", {"method": "general"})}
for name, kwargs in (DECODERS[d] for d in chosen):
    torch.manual_seed(0)
    encoder = seq2seq.EncoderRNN(len(french), hidden)
    decoder = getattr(seq2seq, name)(len(english), hidden, **kwargs)
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=learning_rate)
    started, losses = time.process_time(), []
    for step, index in enumerate(batch_indices(len(train), batch, steps)):
        index = train[index]
        loss = seq2seq.decode_loss(encoder, decoder, *(torch.as_tensor(a[index]) for a in (source, lengths, target)),
                                   torch.as_tensor(teacher[step]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    tokens, _ = seq2seq.greedy_decode(encoder, decoder, torch.as_tensor(source[validation]),
                                      torch.as_tensor(lengths[validation]), max_length=MAX_LENGTH)
    hypotheses = [english.decode(row) for row in tokens.numpy()]
    by_length = {f"{n}-{n + 2}": round(corpus_bleu([h for h, w in zip(hypotheses, words) if n <= w < n + 3],
                                                   [r for r, w in zip(references, words) if n <= w < n + 3]), 1)
                 for n in range(1, MAX_LENGTH, 3) if ((words >= n) & (words < n + 3)).sum() >= 20}
    print(f"lr {learning_rate:g} {name}: {time.process_time() - started:.1f} s CPU, "
          f"loss {np.mean(losses[-50:]):.3f}, validation BLEU {corpus_bleu(hypotheses, references):.1f}, "
          f"exact {exact_match(hypotheses, references):.3f}, by French length {by_length}", flush=True)
