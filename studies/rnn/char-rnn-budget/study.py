"""Study: how many steps and which size does the char-RNN need to beat the interpolated n-gram?

PyTorch twin only, one thread, on the page's own split (train minus its last 5 %, validation = that 5 %);
validation bits per character every ``--eval-every`` steps, with CPU time. The held-out test text is not read.
Usage: python studies/rnn/char-rnn-budget/study.py --hidden 256 --seq-len 50 --steps 3000
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import torchflow  # noqa: F401  (thread and import-order set-up)
from torchflow.data.shakespeare import load_shakespeare
from torchflow.prep.characters import Alphabet, text_streams


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--embedding", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=25)
    parser.add_argument("--streams", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--clip", type=float, default=0.0)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--layers", type=int, default=1)
    args = parser.parse_args()

    import torch

    from torchflow.pt.rnn import CharRNN

    torch.set_num_threads(1)
    corpus = load_shakespeare()
    train_text, _ = corpus.split(0.9)
    alphabet = Alphabet.of(corpus.text)
    ids = alphabet.encode(train_text)
    cut = int(len(ids) * 0.95)
    train_ids, val_ids = ids[:cut], ids[cut:]
    rows = text_streams(train_ids, args.streams)
    per_epoch = (rows.shape[1] - 1) // args.seq_len
    torch.manual_seed(0)
    model = CharRNN(len(alphabet), args.embedding, args.hidden, "lstm")
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    val = text_streams(val_ids, 50)

    @torch.no_grad()
    def val_bpc() -> float:
        logits, _ = model(torch.as_tensor(val[:, :-1]))
        return torch.nn.functional.cross_entropy(logits.transpose(1, 2), torch.as_tensor(val[:, 1:])).item() / np.log(2)

    state, cpu, curve = None, 0.0, []
    for step in range(1, args.steps + 1):
        k = (step - 1) % per_epoch
        if k == 0:
            state = None
        start = k * args.seq_len
        x = torch.as_tensor(rows[:, start:start + args.seq_len])
        y = torch.as_tensor(rows[:, start + 1:start + args.seq_len + 1])
        began = time.process_time()
        logits, state = model(x, state)
        loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), y)
        optimizer.zero_grad()
        loss.backward()
        if args.clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        state = tuple(s.detach() for s in state)
        cpu += time.process_time() - began
        if step % args.eval_every == 0:
            curve.append((step, round(cpu, 1), round(val_bpc(), 4)))
            print(json.dumps(dict(vars(args), step=step, cpu_s=curve[-1][1], val_bpc=curve[-1][2])), flush=True)


if __name__ == "__main__":
    main()
