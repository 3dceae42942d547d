"""Choose the CVAE page's training recipe on validation data, never on the test set.

    python studies/vae/cvae-learning-rate/study.py [--lr 1e-3 3e-3] [--steps 12000] [--every 3000] \\
        [--frameworks torch tensorflow]
    python studies/vae/cvae-learning-rate/study.py --recipe "lr=0.01,decay=cosine" "lr=0.003,kl_warmup=3000" \\
        --frameworks torch --json runs-torch.json          # one process per twin, in parallel
    python studies/vae/cvae-learning-rate/study.py --report runs-torch.json runs-tensorflow.json --out table.md

Holds out the last 5,000 training images as a validation split, trains each twin
on the other 55,000 (the page's shared batch indices, the page's steps: fused
Adam with subnormals flushed for PyTorch, one XLA program for TensorFlow) and,
every ``--every`` steps, scores 100 samples of each class with the judge at
temperatures 1 and 0.7 from *validation codes* (seed 3; the page draws its codes
with seed 2), and the loss (the negative ELBO, whatever the KL weight during
training) on the validation split.

A recipe is ``key=value`` pairs: ``lr`` (the peak learning rate), ``decay``
(``constant``, ``cosine``: to ``final`` times ``lr`` at the last step, or ``step``:
times ``final`` after ``drop_at`` of the steps), ``final``, ``drop_at``,
``kl_warmup`` (steps over which the KL weight moves linearly from ``kl_start``,
default 0, to 1; the objective is the ELBO after them), ``batch``, ``beta2`` (Adam's), ``steps``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torchflow  # noqa: E402
from torchflow.data import load_images  # noqa: E402
from torchflow.judge import Judge  # noqa: E402
from torchflow.training import batch_indices, batched_mean, fixed_normal  # noqa: E402

DEFAULTS = dict(lr=3e-3, decay="constant", final=0.0, drop_at=0.5, kl_warmup=0, kl_start=0.0, batch=100, beta2=0.999,
                steps=12_000, ema=0.0)


def parse_recipe(text: str, steps: int) -> dict:
    recipe = dict(DEFAULTS, steps=steps)
    for pair in filter(None, text.split(",")):
        key, value = pair.split("=")
        if key not in recipe:
            raise ValueError(f"unknown recipe key {key!r}; known: {', '.join(recipe)}")
        recipe[key] = value if key == "decay" else type(DEFAULTS[key])(float(value))
    return recipe


def describe(recipe: dict) -> str:
    """The recipe in words, only what differs from the page's first recipe (Adam 3e-3, batch 100)."""
    parts = [f"Adam {recipe['lr']:g}"]
    if recipe["decay"] == "cosine":
        parts.append(f"cosine to {recipe['final']:g}×")
    elif recipe["decay"] == "step":
        parts.append(f"×{recipe['final']:g} after {recipe['drop_at']:.0%}")
    if recipe["kl_warmup"]:
        parts.append(f"KL weight {recipe.get('kl_start', 0.0):g} → 1 over {recipe['kl_warmup']}")
    if recipe["batch"] != 100:
        parts.append(f"batch {recipe['batch']}")
    if recipe["beta2"] != 0.999:
        parts.append(f"β2 {recipe['beta2']:g}")
    if recipe.get("ema"):
        parts.append(f"scored with weights averaged at {recipe['ema']:g}")
    if recipe["steps"] != 12_000:
        parts.append(f"{recipe['steps']} steps")
    return ", ".join(parts)


def learning_rate(recipe: dict, step: int) -> float:
    """The learning rate of optimiser step ``step`` (0-based)."""
    progress = step / max(recipe["steps"] - 1, 1)
    if recipe["decay"] == "cosine":
        return recipe["lr"] * (recipe["final"] + (1 - recipe["final"]) * 0.5 * (1 + math.cos(math.pi * progress)))
    if recipe["decay"] == "step":
        return recipe["lr"] * (recipe["final"] if progress >= recipe["drop_at"] else 1.0)
    return recipe["lr"]


def kl_weight(recipe: dict, step: int) -> float:
    """The weight of the KL term: from ``kl_start`` at step 0 to 1 at step ``kl_warmup``, linearly."""
    if not recipe["kl_warmup"]:
        return 1.0
    return recipe["kl_start"] + (1.0 - recipe["kl_start"]) * min(1.0, step / recipe["kl_warmup"])


def torch_twin(fit_x, fit_y, recipe, seed=0):
    import torch

    from torchflow.pt.vae import CVAE

    torch.manual_seed(seed)
    torch.set_flush_denormal(True)
    model = CVAE(seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe["lr"], betas=(0.9, recipe["beta2"]), eps=1e-8,
                                 fused=True)
    train_x, train_y = torch.as_tensor(fit_x), torch.as_tensor(fit_y)
    decay = recipe.get("ema", 0.0)
    averaged = CVAE(seed=seed)  # an exponential moving average of the weights (scored when decay > 0)
    averaged.set_weights(model.get_weights())
    params, ema_params = model.parameters(), averaged.parameters()

    def step(index, lr, beta):
        for group in optimizer.param_groups:
            group["lr"] = lr
        index = torch.from_numpy(index)
        _, reconstruction, kl = model.loss(train_x[index], train_y[index])
        loss = reconstruction + beta * kl
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if decay:
            with torch.no_grad():
                torch._foreach_lerp_(ema_params, params, 1.0 - decay)
        return loss.item()

    scored = averaged if decay else model

    @torch.no_grad()
    def generate(codes, requested):
        return scored.generate(torch.as_tensor(codes), torch.as_tensor(requested)).numpy()

    @torch.no_grad()
    def loss(x, y, noise):
        return scored.loss(torch.as_tensor(x), torch.as_tensor(y), torch.as_tensor(noise))[0].item()

    return step, generate, loss


def tf_twin(fit_x, fit_y, recipe, seed=0):
    import keras
    import tensorflow as tf

    from torchflow.tf.vae import CVAE

    keras.utils.set_random_seed(seed)
    model = CVAE(seed=seed)
    optimizer = keras.optimizers.Adam(learning_rate=recipe["lr"], beta_2=recipe["beta2"], epsilon=1e-8)
    train_x, train_y = tf.constant(fit_x), tf.constant(fit_y)
    decay = recipe.get("ema", 0.0)
    averaged = CVAE(seed=seed)
    averaged.set_weights(model.get_weights())

    @tf.function(jit_compile=True)
    def compiled(index, beta):
        with tf.GradientTape() as tape:
            _, reconstruction, kl = model.loss(tf.gather(train_x, index), tf.gather(train_y, index))
            loss = reconstruction + beta * kl
        gradients = tape.gradient(loss, model.parameters())
        optimizer.apply_gradients(zip(gradients, model.parameters()))
        if decay:
            for average, weight in zip(averaged.parameters(), model.parameters()):
                average.assign(decay * average + (1.0 - decay) * weight)
        return loss

    def step(index, lr, beta):
        optimizer.learning_rate = lr
        return float(compiled(index, tf.constant(beta, tf.float32)))

    scored = averaged if decay else model

    def generate(codes, requested):
        return scored.generate(codes, requested).numpy()

    graph_loss = tf.function(lambda x, y, noise: scored.loss(x, y, noise)[0])

    def loss(x, y, noise):
        return float(graph_loss(x, y, noise))

    return step, generate, loss


def train_and_score(framework, recipe, every, data, judge):
    fit_x, fit_y, val_x, val_y, val_noise, codes, requested = data
    step, generate, loss = (torch_twin if framework == "torch" else tf_twin)(fit_x, fit_y, recipe)
    rows, started, cpu_started = [], time.perf_counter(), time.process_time()
    for number, index in enumerate(batch_indices(len(fit_x), recipe["batch"], recipe["steps"], seed=0)):
        step(index, learning_rate(recipe, number), kl_weight(recipe, number))
        done = number + 1
        if done % every == 0 or done == recipe["steps"]:
            accuracy = [judge.label_accuracy(generate(codes * t, requested), requested) for t in (1.0, 0.7)]
            validation = batched_mean(loss, val_x, val_y, val_noise)
            rows.append(dict(recipe=recipe, framework=framework, steps=done, wall=time.perf_counter() - started,
                             cpu=time.process_time() - cpu_started, t1=accuracy[0], t07=accuracy[1],
                             loss=validation))
            print(f"{describe(recipe)} {framework} step {done}: {accuracy[0]:.1%} / {accuracy[1]:.1%}, "
                  f"validation loss {validation:.1f}, {rows[-1]['cpu']:.0f} s CPU", flush=True)
    return rows


def table(rows) -> list[str]:
    lines = ["| recipe | twin | steps | CPU time | judged as requested, T = 1 | T = 0.7 | validation −ELBO (nats) |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {describe(r['recipe'])} | {r['framework']} | {r['steps']} | {r['cpu']:.0f} s | {r['t1']:.1%} | "
              f"{r['t07']:.1%} | {r['loss']:.1f} |" for r in rows]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, nargs="+", default=[], help="constant learning rates (the first study)")
    parser.add_argument("--recipe", nargs="+", default=[], help="recipes as key=value,... (see the docstring)")
    parser.add_argument("--steps", type=int, default=12_000)
    parser.add_argument("--every", type=int, default=3_000)
    parser.add_argument("--frameworks", nargs="+", default=["torch", "tensorflow"])
    parser.add_argument("--json", help="also write the rows here (to merge parallel runs with --report)")
    parser.add_argument("--report", nargs="+", help="merge these --json files into one table; trains nothing")
    parser.add_argument("--out", default="table.md", help="file name in this study's folder")
    args = parser.parse_args()

    if args.report:
        rows = [row for path in args.report for row in json.loads(Path(path).read_text())]
        order = list(dict.fromkeys(describe(r["recipe"]) for r in rows))  # recipes in the order they ran
        rows.sort(key=lambda r: (order.index(describe(r["recipe"])), r["framework"] != "torch", r["steps"]))
        (HERE / args.out).write_text("\n".join(table(rows)) + "\n")
        print(f"wrote {HERE / args.out}")
        return

    train = load_images("fashion-mnist", "train")
    images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
    fit_x, fit_y, val_x, val_y = images[:-5000], train.labels[:-5000], images[-5000:], train.labels[-5000:]
    requested = np.repeat(np.arange(10), 100)
    data = (fit_x, fit_y, val_x, val_y, fixed_normal((len(val_x), 100), seed=1),
            np.tile(fixed_normal((100, 100), seed=3), (10, 1)), requested)  # validation codes, not the page's
    judge = Judge.load("fashion-mnist")
    recipes = [parse_recipe(f"lr={lr}", args.steps) for lr in args.lr] + [
        parse_recipe(text, args.steps) for text in args.recipe]
    rows = []
    for recipe in recipes or [parse_recipe("", args.steps)]:
        for framework in args.frameworks:
            rows += train_and_score(framework, recipe, args.every, data, judge)
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=1))
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    lines = [
        f"`OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '?')} python studies/vae/cvae-learning-rate/study.py "
        f"{' '.join(sys.argv[1:])}` on {time.strftime('%Y-%m-%d')} ({platform.machine()}, {os.cpu_count()} "
        f"cores shared with other jobs); judge test accuracy {judge.test_accuracy:.1%}.",
        "", *table(rows)]
    (HERE / args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {HERE / args.out}")


if __name__ == "__main__":
    torchflow.frameworks.load_in_safe_order()
    main()
