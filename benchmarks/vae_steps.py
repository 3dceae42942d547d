"""Milliseconds per training step of the VAE and CVAE twins, as the pages run them.

    python benchmarks/vae_steps.py [--steps 1000] [--repeats 3]

Each configuration runs in a fresh process, once with one thread per framework
(``OMP_NUM_THREADS=1``, ``TF_NUM_INTRAOP_THREADS=1``, as in a two-at-a-time docs
build) and once with the frameworks' default threads. A step is what the pages
time: slice the batch of the shared indices out of the in-memory training set,
forward, loss, backward, Adam update, loss to a Python float. The first 50 steps
are warm-up (graph tracing). The median of ``--repeats`` runs is reported.
Writes ``benchmarks/vae-steps.md``.
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
CONFIGS = [("VAE", "torch", False), ("VAE", "torch", True), ("VAE", "tensorflow", False),
           ("CVAE", "torch", False), ("CVAE", "torch", True), ("CVAE", "tensorflow", False)]
THREAD_ENV = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def child(model: str, framework: str, fused: bool, steps: int) -> float:
    sys.path.insert(0, str(HERE))
    import torchflow
    from torchflow.data import load_images
    from torchflow.training import batch_indices

    torchflow.frameworks.load_in_safe_order()
    from vae_twins import build

    train = load_images("fashion-mnist", "train")
    images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
    twin = build(framework, images, train.labels, conditional=model == "CVAE", lr=1e-3, fused=fused)
    times = []
    for index in batch_indices(len(images), 100, steps + 50, seed=0):
        started = time.perf_counter()
        twin.step(index)
        times.append(time.perf_counter() - started)
    return 1000 * float(np.mean(times[50:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("MODEL", "FRAMEWORK", "FUSED"))
    args = parser.parse_args()
    if args.child:
        model, framework, fused = args.child
        print(json.dumps(child(model, framework, fused == "1", args.steps)))
        return

    results: dict[tuple, list[float]] = {}
    for _ in range(args.repeats):
        for threads in ("1", "default"):
            env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV}
            if threads == "1":
                env.update({k: "1" for k in THREAD_ENV})
            for model, framework, fused in CONFIGS:
                out = subprocess.run([sys.executable, __file__, "--steps", str(args.steps), "--child", model,
                                      framework, "1" if fused else "0"], env=env, capture_output=True, text=True)
                if out.returncode:
                    sys.exit(out.stderr[-3000:])
                ms = json.loads(out.stdout.strip().splitlines()[-1])
                results.setdefault((model, framework, fused, threads), []).append(ms)
                print(model, framework, "fused" if fused else "", threads, f"{ms:.2f} ms", flush=True)

    import tensorflow as tf
    import torch

    lines = [
        "# VAE and CVAE: milliseconds per training step, per twin",
        "",
        f"`python benchmarks/vae_steps.py --steps {args.steps} --repeats {args.repeats}` on "
        f"{time.strftime('%Y-%m-%d')}: {platform.machine()}, {os.cpu_count()} cores (shared with other "
        f"jobs: the median of {args.repeats} runs), PyTorch {torch.__version__}, TensorFlow {tf.__version__}. "
        "Batch 100 of Fashion-MNIST sliced from the in-memory training set by the shared indices, "
        "forward, loss, backward, Adam update, loss as a float; 50 warm-up steps not counted.",
        "",
        "| model | twin | threads | ms/step (median) | runs |",
        "|---|---|---|---|---|",
    ]
    for (model, framework, fused, threads), values in results.items():
        label = "PyTorch, Adam(fused=True)" if fused else ("PyTorch" if framework == "torch" else "TensorFlow")
        lines.append(f"| {model} | {label} | {threads} | {np.median(values):.2f} | "
                     f"{', '.join(f'{v:.2f}' for v in values)} |")
    lines.append("")
    for model in ("VAE", "CVAE"):
        for threads in ("1", "default"):
            tf_ms = np.median(results[model, "tensorflow", False, threads])
            for fused in (False, True):
                pt_ms = np.median(results[model, "torch", fused, threads])
                lines.append(f"- {model}, {threads} thread(s): PyTorch{' fused' if fused else ''} "
                             f"{pt_ms:.2f} ms against TensorFlow {tf_ms:.2f} ms: "
                             f"{(pt_ms - tf_ms) / tf_ms:+.0%}.")
    (HERE / "vae-steps.md").write_text("\n".join(lines) + "\n")
    print("wrote", HERE / "vae-steps.md")


if __name__ == "__main__":
    main()
