"""How the CVAE's judge accuracy grows with training: the evidence behind the CVAE page.

    python studies/vae/cvae-epochs/study.py [--epochs 100] [--every 10] [--seed 0]

Trains the PyTorch CVAE of the page (784 -> 128 -> 100, batch 100, Adam 1e-3,
the full Fashion-MNIST training set) and, every ``--every`` epochs, scores 100
samples of each class with the judge at temperatures 1 and 0.7, as the page
does. It also reports the held-out negative ELBO and the number of active
latent units (variance of the posterior mean over the test set above 0.01).
Results go to ``studies/vae/cvae-epochs/results.md``. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

import torchflow
from torchflow.data import load_images
from torchflow.judge import Judge
from torchflow.training import fixed_normal

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (the page uses 1e-3)")
    parser.add_argument("--batch", type=int, default=100, help="batch size (the page uses 100)")
    parser.add_argument("--cosine", action="store_true",
                        help="decay the learning rate to 0 over --epochs on a half cosine, set once per epoch")
    parser.add_argument("--out", default="results.md", help="file name in this study's folder")
    args = parser.parse_args()

    import torch

    from torchflow.prep.wrappers import torch_loader
    from torchflow.pt.vae import CVAE

    train, test = load_images("fashion-mnist", "train"), load_images("fashion-mnist", "test")
    train_images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
    test_images = torch.as_tensor((test.images.reshape(-1, 784) / 255.0).astype(np.float32))
    test_labels = torch.as_tensor(test.labels)
    judge = Judge.load("fashion-mnist")
    requested = np.repeat(np.arange(10), 100)
    codes = fixed_normal((100, 100), seed=2)  # the page's codes

    torch.manual_seed(args.seed)
    model = CVAE(seed=args.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loader = torch_loader(train_images, train.labels, batch_size=args.batch, seed=args.seed, drop_last=True)
    rows, started = [], time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        if args.cosine:
            for group in optimizer.param_groups:
                group["lr"] = args.lr * 0.5 * (1 + np.cos(np.pi * (epoch - 1) / args.epochs))
        for images, labels in loader:
            loss = model.loss(images, labels)[0]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if epoch % args.every and epoch != args.epochs:
            continue
        with torch.no_grad():
            accuracy = {t: judge.label_accuracy(
                model.generate(torch.as_tensor(np.tile(codes, (10, 1)) * t), torch.as_tensor(requested)).numpy(),
                requested) for t in (1.0, 0.7)}
            held_out = model.loss(test_images, test_labels, torch.zeros(len(test_images), 100))[0].item()
            active = int((model.encode(test_images, test_labels)[0].var(0) > 0.01).sum())
        rows.append((epoch, time.perf_counter() - started, accuracy[1.0], accuracy[0.7], held_out, active))
        print(f"epoch {epoch}: {accuracy[1.0]:.1%} / {accuracy[0.7]:.1%} judged as requested "
              f"(temperature 1 / 0.7), held-out -ELBO {held_out:.1f} (mean code), {active} active units", flush=True)

    lines = [
        "# CVAE: judge accuracy against training epochs",
        "",
        f"`python studies/vae/cvae-epochs/study.py --epochs {args.epochs} --every {args.every} --seed {args.seed} "
        f"--lr {args.lr:g} --batch {args.batch}{' --cosine' if args.cosine else ''}` "
        f"on {time.strftime('%Y-%m-%d')}: PyTorch {torch.__version__}, {platform.machine()}, "
        f"{torch.get_num_threads()} thread(s); judge test accuracy {judge.test_accuracy:.1%}.",
        "",
        "| epochs | training time | judge accuracy, temperature 1 | temperature 0.7 "
        "| held-out −ELBO at the mean code (nats) | active units |",
        "|---|---|---|---|---|---|",
        *[f"| {e} | {s:.0f} s | {a1:.1%} | {a07:.1%} | {h:.1f} | {u} |" for e, s, a1, a07, h, u in rows],
    ]
    (HERE / args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {HERE / args.out}")


if __name__ == "__main__":
    torchflow.frameworks.load_in_safe_order()
    main()
