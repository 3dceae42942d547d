"""Milliseconds per training step of the VAE and CVAE twins, as the pages run them.

    python studies/vae/step-time/study.py [--steps 1000] [--repeats 1] [--threads 1 default]

Each configuration runs in a fresh process, once with one thread per framework
(``OMP_NUM_THREADS=1``, ``TF_NUM_INTRAOP_THREADS=1``, as in a two-at-a-time docs
build) and once with the frameworks' default threads. A step is what the pages
time: slice the batch of the shared indices out of the in-memory training set,
forward, loss, backward, Adam update, loss to a Python float. The first steps
are not timed (see ``WARM``). The median of ``--repeats`` runs is reported.
Writes ``studies/vae/step-time/results.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# (model, framework, variant): PyTorch plain, with Adam(fused=True), and fused with subnormals flushed to zero
# and TensorFlow plain (batch gathered eagerly, step in a tf.function) and with XLA (gather inside, jit_compile)
VARIANTS = [("torch", "plain"), ("torch", "fused"), ("torch", "fused+flush"), ("tensorflow", "plain"),
            ("tensorflow", "xla")]
CONFIGS = [(model, framework, variant) for model in ("VAE", "CVAE") for framework, variant in VARIANTS]
WARM = 2000  # steps before timing: subnormal Adam states appear as latent units fall silent
THREAD_ENV = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def child(model: str, framework: str, variant: str, steps: int) -> tuple[float, float]:
    sys.path.insert(0, str(HERE))
    import torchflow
    from torchflow.data import load_images
    from torchflow.training import batch_indices

    torchflow.frameworks.load_in_safe_order()
    from vae_twins import build

    train = load_images("fashion-mnist", "train")
    images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
    options = dict(fused="fused" in variant) if framework == "torch" else dict(xla=variant == "xla")
    twin = build(framework, images, train.labels, conditional=model == "CVAE", lr=1e-3, **options)
    if "flush" in variant:
        import torch

        torch.set_flush_denormal(True)
    walls, cpus = [], []
    for index in batch_indices(len(images), 100, steps + WARM, seed=0):
        started, cpu = time.perf_counter(), time.process_time()
        twin.step(index)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return 1000 * float(np.median(walls[WARM:])), 1000 * float(np.mean(cpus[WARM:]))


def fused_drift(steps: int = 300) -> str:
    """How far Adam(fused=True) takes the VAE's weights from the unfused update, same batches and noise."""
    import torch

    sys.path.insert(0, str(HERE))
    from torchflow.pt.vae import VAE

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    images = torch.as_tensor(rng.random((2000, 784), dtype=np.float32))
    noise = torch.as_tensor(rng.standard_normal((steps, 100, 100), dtype=np.float32))
    weights = {}
    for fused in (False, True):
        model = VAE(seed=0)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8, fused=fused)
        for step in range(steps):
            start = (step * 100) % len(images)
            loss = model.loss(images[start : start + 100], noise=noise[step])[0]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        weights[fused] = model.get_weights()
    drift = max(np.abs(weights[True][n] - weights[False][n]).max() / np.abs(weights[False][n]).max()
                for n in weights[False])
    return (f"Adam(fused=True) against the unfused update, {steps} steps of the VAE on the same batches and "
            f"noise: the largest weight difference is {drift:.1e} of that weight's largest magnitude.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", nargs="+", default=["1", "default"])
    parser.add_argument("--child", nargs=3, metavar=("MODEL", "FRAMEWORK", "VARIANT"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.steps)))
        return

    results: dict[tuple, list[tuple[float, float]]] = {}
    for _ in range(args.repeats):
        for threads in args.threads:
            env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV}
            if threads == "1":
                env.update({k: "1" for k in THREAD_ENV})
            for config in CONFIGS:
                out = subprocess.run([sys.executable, __file__, "--steps", str(args.steps), "--child", *config],
                                     env=env, capture_output=True, text=True)
                if out.returncode:
                    sys.exit(out.stderr[-3000:])
                wall, cpu = json.loads(out.stdout.strip().splitlines()[-1])
                results.setdefault((*config, threads), []).append((wall, cpu))
                print(*config, threads, f"wall {wall:.2f} ms, cpu {cpu:.2f} ms", flush=True)

    report(results, args.steps, args.repeats, args.threads)


def report(results: dict[tuple, list[tuple[float, float]]], steps: int, repeats: int, threads_run: list[str]) -> None:
    """Write ``results.md`` from ``{(model, framework, variant, threads): [(wall ms, CPU ms), ...]}``."""
    import torchflow  # before TensorFlow: see torchflow.frameworks.load_in_safe_order

    torchflow.frameworks.load_in_safe_order()
    import tensorflow as tf
    import torch

    lines = [
        "# VAE and CVAE: milliseconds per training step, per twin",
        "",
        f"`python studies/vae/step-time/study.py --steps {steps} --repeats {repeats} --threads "
        f"{' '.join(threads_run)}` on {time.strftime('%Y-%m-%d %H:%M')}: {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other jobs (load average {os.getloadavg()[0]:.1f} at the end), "
        f"PyTorch {torch.__version__}, TensorFlow {tf.__version__}. A step is what the pages time: batch 100 "
        f"sliced from the in-memory training set by the shared indices, forward, loss, backward, Adam update, "
        f"loss as a float. {WARM} steps of training first (not timed), then {steps} timed. "
        "'wall': median wall time of a step; 'CPU': mean process CPU time of a step, which other jobs on the "
        "same cores inflate much less (with one thread it is the work of the step; with more, all threads').",
        "",
        "| model | twin | threads | wall ms/step | CPU ms/step |",
        "|---|---|---|---|---|",
    ]
    for (model, framework, variant, threads), values in results.items():
        label = f"TensorFlow, {variant}" if framework == "tensorflow" else f"PyTorch, {variant}"
        wall, cpu = np.median(np.array(values), axis=0)
        lines.append(f"| {model} | {label} | {threads} | {wall:.2f} | {cpu:.2f} |")
    lines.append("")
    for model in ("VAE", "CVAE"):
        for threads in threads_run:
            for tf_variant in ("plain", "xla"):
                tf_wall, tf_cpu = np.median(np.array(results[model, "tensorflow", tf_variant, threads]), axis=0)
                wall, cpu = np.median(np.array(results[model, "torch", "fused+flush", threads]), axis=0)
                lines.append(f"- {model}, {threads} thread(s): PyTorch fused+flush against TensorFlow {tf_variant}: "
                             f"wall {wall:.2f} / {tf_wall:.2f} ms ({(wall - tf_wall) / tf_wall:+.0%}), "
                             f"CPU {cpu:.2f} / {tf_cpu:.2f} ms ({(cpu - tf_cpu) / tf_cpu:+.0%}).")
    lines += ["", fused_drift()]
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    print("wrote", HERE / "results.md")


if __name__ == "__main__":
    main()
