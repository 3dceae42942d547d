"""Choose the classifier page's learning rate on validation data, never on the test set.

    python studies/cnn/classifier-learning-rate/study.py [--lr 0.005 0.01 0.02 0.05] [--steps 938] [--frameworks torch]

Holds out the last 5,000 training images as a validation split (as the page
``examples/cnn/plot_1_classifier.py`` does), trains the tutorial's ConvNet on the
other 55,000 for ``--steps`` optimiser steps of 128 with SGD and momentum 0.9 (the
page's settings, seed 0, the same batches for every rate), and scores accuracy on
the validation split at the page's four evaluation points. The test set is never
loaded. Writes ``results.md`` and ``results.json`` beside this script.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

from torchflow.data import load_cifar10

HERE = Path(__file__).resolve().parent
HELD_OUT = 5_000


def torch_run(fit_x, fit_y, val_x, val_y, classes, lr, steps, eval_at, batch_size=128, momentum=0.9, seed=0):
    import torch
    import torch.nn.functional as F

    from torchflow.prep.wrappers import torch_loader
    from torchflow.pt.cnn import ConvNet

    torch.manual_seed(seed)
    model = ConvNet(num_classes=classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    fit_x, val_x = fit_x.transpose(0, 3, 1, 2), val_x.transpose(0, 3, 1, 2)

    def normalise(images):
        return (images.float() / 255 - 0.5) / 0.5

    @torch.no_grad()
    def accuracy():
        model.eval()
        loader = torch_loader(val_x, batch_size=1000, shuffle=False)
        predictions = np.concatenate([model(normalise(x)).argmax(1).numpy() for (x,) in loader])
        model.train()
        return float(np.mean(predictions == val_y))

    loader = torch_loader(fit_x, fit_y, batch_size=batch_size, seed=seed)
    batches = itertools.chain.from_iterable(itertools.repeat(loader))
    curve, losses = [], []
    model.train()
    for step, (images, labels) in enumerate(itertools.islice(batches, steps), 1):
        loss = F.cross_entropy(model(normalise(images)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step in eval_at:
            curve.append(accuracy())
            losses.append(float(loss))
    return curve, losses


def tf_run(fit_x, fit_y, val_x, val_y, classes, lr, steps, eval_at, batch_size=128, momentum=0.9, seed=0):
    import keras
    import tensorflow as tf

    from torchflow.prep.wrappers import tf_dataset
    from torchflow.tf.cnn import ConvNet

    keras.utils.set_random_seed(seed)
    model = ConvNet(num_classes=classes)
    optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=momentum)

    def normalise(images, *labels):
        return ((tf.cast(images, tf.float32) / 255 - 0.5) / 0.5, *labels)

    def accuracy():
        batches = tf_dataset(val_x, batch_size=1000, shuffle=False).map(normalise)
        predictions = np.concatenate([tf.argmax(model(x, training=False), 1).numpy() for (x,) in batches])
        return float(np.mean(predictions == val_y))

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, model(images, training=True)))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    passes = (tf_dataset(fit_x, fit_y, batch_size=batch_size, seed=seed, epoch=epoch) for epoch in itertools.count())
    batches = itertools.chain.from_iterable(dataset.map(normalise) for dataset in passes)
    curve, losses = [], []
    for step, (images, labels) in enumerate(itertools.islice(batches, steps), 1):
        loss = train_step(images, labels)
        if step in eval_at:
            curve.append(accuracy())
            losses.append(float(loss))
    return curve, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, nargs="+", default=[0.005, 0.01, 0.02, 0.05])
    parser.add_argument("--steps", type=int, default=938)
    parser.add_argument("--evaluations", type=int, default=4)
    parser.add_argument("--frameworks", nargs="+", default=["torch"], choices=["torch", "tensorflow"])
    args = parser.parse_args()

    train = load_cifar10("train")
    if len(train) <= HELD_OUT:
        raise SystemExit(f"only {len(train):,} training images here; the study needs more than {HELD_OUT:,}")
    fit_x, fit_y = train.images[:-HELD_OUT], train.labels[:-HELD_OUT]
    val_x, val_y = train.images[-HELD_OUT:], train.labels[-HELD_OUT:]
    eval_at = np.linspace(0, args.steps, args.evaluations + 1)[1:].round().astype(int).tolist()
    runners = {"torch": torch_run, "tensorflow": tf_run}
    rows = []
    for lr in args.lr:
        for name in args.frameworks:
            wall, cpu = time.perf_counter(), time.process_time()
            curve, losses = runners[name](fit_x, fit_y, val_x, val_y, len(train.classes), lr, args.steps, eval_at)
            rows.append(dict(learning_rate=lr, framework=name, curve=curve, losses=losses,
                             wall_s=time.perf_counter() - wall, cpu_s=time.process_time() - cpu))
            print(f"lr {lr} {name}: validation accuracy {', '.join(f'{a:.2%}' for a in curve)} "
                  f"({rows[-1]['wall_s']:.0f} s wall, {rows[-1]['cpu_s']:.0f} s CPU)", flush=True)

    mean_final = {lr: float(np.mean([r["curve"][-1] for r in rows if r["learning_rate"] == lr])) for lr in args.lr}
    best = max(mean_final, key=mean_final.get)
    twins = " and ".join({"torch": "PyTorch", "tensorflow": "TensorFlow"}[n] for n in args.frameworks)
    lines = [
        "# Classifier page: the learning rate, chosen on validation data (generated by "
        "`studies/cnn/classifier-learning-rate/study.py`)",
        "",
        f"{train.describe().rstrip('.')}. Training on the first {len(fit_y):,} training images, validation on the last "
        f"{HELD_OUT:,}; the test set is never loaded. The {twins} twin{'s' if len(args.frameworks) > 1 else ''}, "
        f"the tutorial's ConvNet, SGD with momentum 0.9, batches of 128, {args.steps} optimiser steps "
        f"(the page's `cpu` budget is 938), seed 0, the same batches for every rate. Validation accuracy at steps "
        f"{', '.join(map(str, eval_at))}. Rule: keep the rate with the best final validation accuracy "
        f"(averaged over the twins run). Machine: {platform.machine()}, {os.cpu_count()} cores shared with other "
        f"engineers' jobs, one thread (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}), "
        f"so wall times are inflated.",
        "",
        "| learning rate | twin | validation accuracy at the evaluation steps | final | wall s | CPU s |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        label = {"torch": "PyTorch", "tensorflow": "TensorFlow"}[r["framework"]]
        lines.append(f"| {r['learning_rate']} | {label} | {', '.join(f'{a:.2%}' for a in r['curve'])} | "
                     f"**{r['curve'][-1]:.2%}** | {r['wall_s']:.0f} | {r['cpu_s']:.0f} |")
    lines += ["", f"Chosen: **{best}** (final validation accuracy {mean_final[best]:.2%}; the others: "
              + ", ".join(f"{lr} {acc:.2%}" for lr, acc in mean_final.items() if lr != best) + ")."]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines += ["", f"Peak memory {peak:.0f} MiB."]
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    (HERE / "results.json").write_text(json.dumps(dict(rows=rows, chosen=best, eval_at=eval_at,
                                                  held_out=HELD_OUT, steps=args.steps), indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
