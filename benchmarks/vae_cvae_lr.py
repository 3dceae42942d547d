"""Choose the CVAE page's learning rate on validation data, never on the test set.

    python benchmarks/vae_cvae_lr.py [--lr 1e-3 3e-3] [--steps 12000] [--every 3000] [--frameworks torch tensorflow]

Holds out the last 5,000 training images as a validation split, trains each twin
on the other 55,000 for ``--steps`` optimiser steps of 100 (the page's shared
batch indices, Adam epsilon 1e-8) and, every ``--every`` steps, scores 100
samples of each class with the judge at temperatures 1 and 0.7 from *validation
codes* (seed 3; the page draws its codes with seed 2), and the loss on the
validation split. Writes ``benchmarks/vae-cvae-lr.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from vae_twins import build  # noqa: E402

import torchflow  # noqa: E402
from torchflow.data import load_images  # noqa: E402
from torchflow.judge import Judge  # noqa: E402
from torchflow.training import batch_indices, batched_mean, fixed_normal  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, nargs="+", default=[1e-3, 3e-3])
    parser.add_argument("--steps", type=int, default=12_000)
    parser.add_argument("--every", type=int, default=3_000)
    parser.add_argument("--frameworks", nargs="+", default=["torch", "tensorflow"])
    parser.add_argument("--out", default="vae-cvae-lr.md")
    args = parser.parse_args()

    train = load_images("fashion-mnist", "train")
    images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
    fit_x, fit_y, val_x, val_y = images[:-5000], train.labels[:-5000], images[-5000:], train.labels[-5000:]
    val_noise = fixed_normal((len(val_x), 100), seed=1)
    judge = Judge.load("fashion-mnist")
    requested = np.repeat(np.arange(10), 100)
    codes = np.tile(fixed_normal((100, 100), seed=3), (10, 1))  # validation codes, not the page's

    rows = []
    for lr in args.lr:
        for framework in args.frameworks:
            twin = build(framework, fit_x, fit_y, conditional=True, lr=lr)
            started = time.perf_counter()
            for step, index in enumerate(batch_indices(len(fit_x), 100, args.steps, seed=0), 1):
                twin.step(index)
                if step % args.every == 0:
                    accuracy = [judge.label_accuracy(twin.generate(codes * t, requested), requested)
                                for t in (1.0, 0.7)]
                    loss = batched_mean(twin.loss, val_x, val_y, val_noise)
                    rows.append((lr, framework, step, time.perf_counter() - started, *accuracy, loss))
                    print(f"lr {lr:g} {framework} step {step}: {accuracy[0]:.1%} / {accuracy[1]:.1%}, "
                          f"validation loss {loss:.1f}", flush=True)

    lines = [
        "# CVAE: the learning rate, chosen on validation data",
        "",
        f"`OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '?')} python benchmarks/vae_cvae_lr.py --lr "
        f"{' '.join(f'{lr:g}' for lr in args.lr)} --steps {args.steps} --every {args.every}` on "
        f"{time.strftime('%Y-%m-%d')} ({platform.machine()}, {os.cpu_count()} cores shared with other jobs); "
        f"judge test accuracy {judge.test_accuracy:.1%}. Training on 55,000 images, validation on the last "
        "5,000 training images; judge accuracy of 100 samples per class from validation codes (seed 3).",
        "",
        "| learning rate | twin | steps | time | judged as requested, T = 1 | T = 0.7 | validation loss (nats) |",
        "|---|---|---|---|---|---|---|",
        *[f"| {lr:g} | {fw} | {s} | {t:.0f} s | {a1:.1%} | {a07:.1%} | {v:.1f} |" for lr, fw, s, t, a1, a07, v in rows],
    ]
    (HERE / args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {HERE / args.out}")


if __name__ == "__main__":
    torchflow.frameworks.load_in_safe_order()
    main()
