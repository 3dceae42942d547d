"""Choose the GAN and CGAN pages' step counts and the CGAN's averaged generator on a validation split.

One process, the PyTorch twin (``torchflow.pt.gan``: the pages' own ``train_step`` and
``update_average``), the first 55,000 Fashion-MNIST training images to train and the other 5,000 to
score (no test image): 2,000 samples against 2,000 validation images in judge features (KID with its
half-sampling standard error, precision, recall, memorisation ratio against the training split,
Fréchet distance), the other 3,000 validation images for the real-vs-real floor; the same scores for
the baselines every generative page records (copies, prototypes, the class-conditional diagonal
Gaussian), so that the pages' thresholds are chosen here, not on the test set.

* GAN (``plot_1_gan``'s settings): scored every 1,000 steps from 5,000 to 10,000, so the chosen step
  count's score stands beside its neighbours' with its noise.
* CGAN (``plot_2_cgan``'s settings): G itself and its exponential moving average (decay 0.999), both
  scored every 2,000 steps from 6,000 to 12,000 from the *same* run: the averaging decision.

Writes ``studies/gan/steps/results.json`` (the pages read the chosen rows from it) and prints the tables
of ``studies/gan/steps/results.md``::

    python studies/gan/steps/study.py            # about 3 minutes of CPU, one thread
    python studies/gan/steps/study.py --table    # the tables, from the JSON
    python studies/gan/steps/study.py --cgan     # the CGAN part alone (8,000 and 10,000 steps)
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

import numpy as np

import torchflow  # noqa: F401  (import order: PyTorch first)

import torch  # isort: skip

from torchflow.data import load_images
from torchflow.generative import contenders, requested_class_accuracy
from torchflow.judge import Judge
from torchflow.pt.gan import CGAN, GAN, train_step, update_average
from torchflow.training import batch_indices, fixed_uniform

COUNT = 2000
OUT = Path(__file__).with_name("results.json")


def scores(judge: Judge, images: np.ndarray, reference: np.ndarray, train: np.ndarray,
           other: np.ndarray) -> dict[str, float]:
    q = judge.quality(images, reference, train, other_real=other)
    keys = ("kid", "kid standard error", "precision", "recall", "memorisation ratio", "frechet")
    return {key: float(q[key]) for key in keys} | {"floor kid": float(q["floor kid"]),
                                                   "floor precision": float(q["floor precision"]),
                                                   "floor recall": float(q["floor recall"])}


def run_model(name: str, judge: Judge, data: dict, batch: int, steps: int, every: range,
              average_decay: float | None) -> dict:
    torch.manual_seed(0)
    conditional = name == "CGAN"
    model = CGAN(seed=0) if conditional else GAN(seed=0)
    opts = dict(lr=1e-3, betas=(0.5, 0.999), eps=1e-8)
    optimizers = (torch.optim.Adam(model.discriminator_weights, **opts),
                  torch.optim.Adam(model.generator_weights, **opts))
    averaged = [w.detach().clone() for w in model.generator_weights]
    noise_rng = np.random.default_rng(1)
    eval_noise = torch.as_tensor(fixed_uniform((COUNT, model.noise_dim), seed=3))
    requested = np.repeat(np.arange(10), COUNT // 10)
    eval_labels = torch.as_tensor(requested) if conditional else None
    train_x, train_y = torch.as_tensor(data["train"]), torch.as_tensor(data["train labels"])

    @torch.no_grad()
    def sample(weights: list[torch.Tensor] | None) -> np.ndarray:
        if weights is None:
            return model.generate(eval_noise, eval_labels).numpy()
        current = [w.detach().clone() for w in model.generator_weights]
        for w, a in zip(model.generator_weights, weights):
            w.copy_(a)
        try:
            return model.generate(eval_noise, eval_labels).numpy()
        finally:
            for w, c in zip(model.generator_weights, current):
                w.copy_(c)

    found: dict = {}
    cpu0 = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    for step, index in enumerate(batch_indices(len(train_x), batch, steps, 0), 1):
        noise = torch.as_tensor(noise_rng.uniform(-1, 1, (batch, model.noise_dim)).astype(np.float32))
        train_step(model, optimizers, train_x[index], noise, train_y[index] if conditional else None)
        if average_decay is not None:
            update_average(averaged, model.generator_weights, average_decay)
        if step in every:
            for which, weights in (("G", None), ("average", averaged if average_decay is not None else None)):
                if which == "average" and average_decay is None:
                    continue
                images = sample(weights)
                row = scores(judge, images, data["reference"], data["train"], data["other"])
                if conditional:
                    acc = requested_class_accuracy(judge, images, requested, data["reference"],
                                                   data["reference labels"])
                    row["requested accuracy"] = acc["overall"]
                found.setdefault(which, {})[step] = row
                cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu0
                print(f"{name} {which} step {step}: " + ", ".join(f"{k} {v:.4g}" for k, v in row.items())
                      + f" ({cpu:.0f} s cpu)", flush=True)
    return found


def table(result: dict) -> str:
    """The markdown tables of ``studies/gan/steps/results.md``, from the JSON this study writes."""
    def row(name: str, r: dict) -> str:
        cells = [f"{r['kid']:.3f} ± {r['kid standard error']:.3f}", f"{r['precision']:.3f}",
                 f"{r['recall']:.3f}", f"{r['memorisation ratio']:.2f}", f"{r['frechet']:.1f}"]
        if "requested accuracy" in r:
            cells.append(f"{r['requested accuracy']:.1%}")
        return f"| {name} | " + " | ".join(cells) + " |"

    head = "| scored set | KID ± s.e. | precision | recall | memorisation ratio | Fréchet distance |"
    lines = [head, "|---" * 6 + "|"]
    lines += [row(name, r) for name, r in result["baselines"].items()]
    floor = next(iter(result["baselines"].values()))
    lines.append(f"| {result['count']:,} more real validation images (floor) | {floor['floor kid']:.3f} | "
                 f"{floor['floor precision']:.3f} | {floor['floor recall']:.3f} | – | – |")
    lines += ["", "GAN (batches of 128):", "", head, lines[1]]
    lines += [row(f"step {int(step):,}", r) for step, r in result.get("GAN", {}).items()]
    if "CGAN" in result:
        lines += ["", "CGAN (batches of 64), G itself and its average (decay 0.999), the same run:", "",
                  head[:-1] + " judged as requested |", "|---" * 7 + "|"]
        for which, rows in result["CGAN"].items():
            lines += [row(f"{which}, step {int(step):,}", r) for step, r in rows.items()]
    return "\n".join(lines)


def main() -> None:
    if "--table" in sys.argv:
        print(table(json.loads(OUT.read_text())))
        return
    torch.set_num_threads(1)
    train = load_images("fashion-mnist", "train")
    images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
    split = len(images) * 11 // 12
    judge = Judge.load("fashion-mnist")
    data = {"train": images[:split], "train labels": train.labels[:split],
            "reference": images[split : split + COUNT], "reference labels": train.labels[split : split + COUNT],
            "other": images[split + COUNT : split + 2 * COUNT]}
    result: dict = {"split": f"train on the first {split:,} training images, score on the last "
                             f"{len(images) - split:,}", "count": COUNT, "baselines": {}}
    if "--cgan" in sys.argv:  # the CGAN part alone, at 8,000 and 10,000 steps, merged into the JSON
        found = run_model("CGAN", judge, data, 64, 10_000, (8_000, 10_000), 0.999)
        result = json.loads(OUT.read_text()) if OUT.exists() else result
        OUT.write_text(json.dumps(result | {"CGAN": found}, indent=1))
        return
    for name, (pictures, _kind) in contenders(data["train"], data["train labels"], COUNT, seed=0).items():
        result["baselines"][name] = scores(judge, pictures, data["reference"], data["train"], data["other"])
        print(f"baseline {name}: {result['baselines'][name]}", flush=True)
    result["GAN"] = run_model("GAN", judge, data, 128, 10_000, range(5_000, 10_001, 1_000), None)["G"]
    OUT.write_text(json.dumps(result, indent=1))
    result["CGAN"] = run_model("CGAN", judge, data, 64, 12_000, range(6_000, 12_001, 2_000), 0.999)
    OUT.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
