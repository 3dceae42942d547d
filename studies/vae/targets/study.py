"""Choose the VAE and CVAE pages' targets on validation data, never on the test set.

    python studies/vae/targets/study.py [--out studies/vae/targets/results.md]

Holds out the last 5,000 training images of the full Fashion-MNIST as a validation split and trains
the PyTorch twin of each page on the other 55,000 with the page's recipe (VAE: Adam 1e-3; CVAE:
Adam 3e-3; batch 100, the page's shared batch indices), scoring it at the `cpu` budget's step count
(the `full` budget's was not measured: the two cores were shared by many jobs). On the validation
split: the negative ELBO
(nats, grey-level targets: the expectation over binarised pixels), and 2,000 prior samples (codes of
seed 7, which the pages do not use; the CVAE 200 per class) scored by the judge against 2,000
validation images with the page's scoring (:func:`torchflow.generative.score`), beside the baselines
that need no training (:func:`torchflow.generative.record_baselines`) and the Bernoulli pixel models
(:mod:`torchflow.baselines.pixels`); with ``--contenders``, the copies, prototypes and Gaussian too
(the pages score those on the test set in every build). One process, one thread, one twin (the pages' parity and
trajectory tests hold the twins to each other).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # the repository

import torch  # noqa: E402

from torchflow.baselines.images import class_prototypes, diagonal_gaussian  # noqa: E402
from torchflow.baselines.pixels import bernoulli_nll, bernoulli_pixels  # noqa: E402
from torchflow.data import load_images  # noqa: E402
from torchflow.generative import (  # noqa: E402
    KID,
    MEMORY,
    PRECISION,
    RECALL,
    record_baselines,
    requested_class_accuracy,
    score,
)
from torchflow.judge import Judge  # noqa: E402
from torchflow.pt.vae import CVAE, VAE, train_step  # noqa: E402
from torchflow.run import Run  # noqa: E402
from torchflow.training import batch_indices, fixed_normal  # noqa: E402

PAGES = {"plot_1_vae": dict(model=VAE, lr=1e-3, steps=(9_000,), classes=0),
         "plot_2_cvae": dict(model=CVAE, lr=3e-3, steps=(20_000,), classes=10)}
COUNT = 2_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(HERE / "results.md"))
    parser.add_argument("--quick", action="store_true", help="a few steps, to check the script")
    parser.add_argument("--contenders", action="store_true", help="also score the copies, prototypes, Gaussian")
    parser.add_argument("--pages", nargs="+", default=list(PAGES), choices=list(PAGES), help="the pages to study")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    data = load_images("fashion-mnist", "train")
    images = (data.images.reshape(-1, 784) / 255.0).astype(np.float32)
    train_x, val_x = images[:-5_000], images[-5_000:]
    train_y, val_y = data.labels[:-5_000], data.labels[-5_000:]
    judge = Judge.load("fashion-mnist")
    unit = lambda flat: np.asarray(flat, np.float32).reshape(-1, 28, 28)  # noqa: E731
    reference, other_real, train_unit = unit(val_x[:COUNT]), unit(val_x[COUNT : 2 * COUNT]), unit(train_x)
    found: dict = {"data": data.describe(), "judge": judge.trained_on, "pages": {}}

    if args.contenders:  # the pages score these on the test set in every build
        scratch = Run("study", budget="cpu")
        record_baselines(scratch, judge, train_unit, train_y, reference, other_real, seed=0)
        found["baselines"] = {b.name + " | " + b.metric: [b.value, b.noise, b.kind] for b in scratch.baselines}
    requested = np.repeat(np.arange(10), COUNT // 10)
    prototypes, prototype_labels = class_prototypes(train_unit, train_y, COUNT)
    gaussian, _ = diagonal_gaussian(train_unit, train_y, COUNT, seed=0, requested=requested)
    found["accuracy baselines"] = {
        "class prototypes": float((judge.predict(prototypes) == prototype_labels).mean()),
        "diagonal Gaussian per class": requested_class_accuracy(judge, gaussian, requested, reference,
                                                                val_y[:COUNT])["overall"],
        "real validation images": float((judge.predict(reference) == val_y[:COUNT]).mean())}
    binary = (np.random.default_rng(3).random(val_x.shape) < val_x).astype(np.float64)
    by_class = bernoulli_pixels(train_x, train_y)
    nll = {"Bernoulli pixels per class, given the label": bernoulli_nll(*by_class, val_x, val_y),
           "Bernoulli pixels, mixture of the classes (binary draw)": bernoulli_nll(*by_class, binary),
           "Bernoulli pixels, one for all images": bernoulli_nll(*bernoulli_pixels(train_x), val_x)}
    found["likelihood baselines"] = {k: [float(v.mean()), float(v.std() / len(v) ** 0.5)] for k, v in nll.items()}
    print(json.dumps({k: v for k, v in found.items() if k != "pages"}, indent=1, default=str), flush=True)

    noise = fixed_normal((len(val_x), 100), seed=1)
    codes = fixed_normal((COUNT, 100), seed=7)
    for page, spec in ((page, PAGES[page]) for page in args.pages):
        steps = (40,) if args.quick else spec["steps"]
        torch.manual_seed(0)
        model = spec["model"](seed=0)
        optimizer = torch.optim.Adam(model.parameters(), lr=spec["lr"], eps=1e-8, fused=True)
        tx, ty = torch.as_tensor(train_x), torch.as_tensor(train_y)
        labels = torch.as_tensor(requested) if spec["classes"] else None
        started, results = time.perf_counter(), {}
        for step, index in enumerate(batch_indices(len(train_x), 100, steps[-1], seed=0), 1):
            train_step(model, optimizer, tx[index], ty[index] if spec["classes"] else None)
            if step not in steps:
                continue
            with torch.no_grad():
                per_image = []
                for i in range(0, len(val_x), 500):
                    x = torch.as_tensor(val_x[i : i + 500])
                    y = torch.as_tensor(val_y[i : i + 500]) if spec["classes"] else None
                    mean, logvar = model.encode(x, y)
                    logits = model.decode(model.sample_latent(mean, logvar, torch.as_tensor(noise[i : i + 500])), y)
                    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
                    per_image.append((bce - 0.5 * (1 + logvar - mean**2 - logvar.exp()).sum(1)).numpy())
                per_image = np.concatenate(per_image)
                entry = {"negative ELBO": [float(per_image.mean()), float(per_image.std() / len(per_image) ** 0.5)],
                         "seconds": round(time.perf_counter() - started, 1)}
                for temperature in (1.0,):
                    samples = unit(model.generate(torch.as_tensor(codes * temperature), labels).numpy())
                    values, errors, quality = score(judge, samples, reference, train_unit, other_real)
                    entry[f"T={temperature}"] = {m: [values[m], errors.get(m)]
                                                 for m in (KID, PRECISION, RECALL, MEMORY)}
                    entry[f"T={temperature}"]["class histogram"] = np.round(quality["class histogram"], 3).tolist()
                    if spec["classes"]:
                        accuracy = requested_class_accuracy(judge, samples, requested, reference, val_y[:COUNT])
                        entry[f"T={temperature}"]["requested accuracy"] = accuracy["overall"]
                        entry[f"T={temperature}"]["per class"] = np.round(accuracy["per class"], 3).tolist()
            results[step] = entry
            print(page, step, json.dumps(entry, default=str), flush=True)
        found["pages"][page] = results
    Path(args.out).with_suffix(".json").write_text(json.dumps(found, indent=1, default=str))


if __name__ == "__main__":
    main()
