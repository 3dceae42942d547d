"""The GPU check: a few representative pages in the ``full`` budget on a CUDA GPU, in under 10 minutes.

    python tools/gpu_check.py                       # the default pages, full budget, TORCHFLOW_DEVICE=cuda
    python tools/gpu_check.py --pages vae/plot_1_vae --budget cpu --limit 300
    python tools/gpu_check.py --device cpu --budget smoke   # what the tests run: the script itself, no GPU

First it says what the machine offers (PyTorch's and TensorFlow's GPUs); with ``--device cuda`` and no
GPU it stops there (exit status 2), naming the fix. Then each page runs as ``python page.py`` in a
process of its own, with the seconds left of ``--limit`` as its timeout (a page that would not finish
in time is reported, not waited for), and the script prints one row per page from its record: the
wall time, each twin's device, execution mode and ms/step, the first target with both twins' values,
and the misses. ``--out FILE`` writes the table as Markdown too. Exit status 1 if a page failed or
missed a target.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# One page per kind of step: dense images (VAE), convolutions (DCGAN, the classifier), recurrence
# (char-RNN), attention (translation); together about 6 minutes of the full budget on one GPU (estimated:
# the full budget has not run yet, benchmarks/times.toml).
PAGES = ["vae/plot_1_vae", "gan/plot_4_dcgan", "cnn/plot_1_classifier", "rnn/plot_4_char_rnn",
         "seq2seq/plot_1_translation"]


def machine() -> tuple[list[str], list[str]]:
    """The CUDA GPUs PyTorch and TensorFlow see here (names), each empty where none or not installed."""
    probe = ("import json, os\nout = {}\ntry:\n    import torchflow, torch\n"
             "    out['torch'] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]\n"
             "except ImportError:\n    out['torch'] = []\ntry:\n    import tensorflow as tf\n"
             "    out['tensorflow'] = [d.name for d in tf.config.list_physical_devices('GPU')]\n"
             "except ImportError:\n    out['tensorflow'] = []\nprint('GPUS=' + json.dumps(out))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"})
    line = next((x for x in done.stdout.splitlines() if x.startswith("GPUS=")), None)
    if line is None:
        raise SystemExit(f"could not ask the frameworks for their GPUs:\n{done.stderr[-2000:]}")
    found = json.loads(line[5:])
    return found["torch"], found["tensorflow"]


def row(page: str, seconds: float, record: dict | None, problem: str = "") -> str:
    if record is None:
        return f"| {page} | {seconds:.0f} s | – | – | – | failed: {problem} |"
    twins = {t["framework"]: t for t in record.get("twins", [])}
    cells = []
    for name in ("torch", "tensorflow"):
        twin = twins.get(name)
        if twin is None:
            cells.append("–")
            continue
        step = f"{1000 * twin['seconds_per_step']:.2f} ms" if twin.get("seconds_per_step") else "–"
        cells.append(f"{twin.get('device') or '?'}, {twin.get('mode') or 'eager'}, {step}")
    verdict = (record.get("verdict") or [None])[0]
    if verdict:
        values = {c["twin"]: c["value"] for c in verdict["checks"]}
        target = (f"{verdict['metric']} {verdict['target']}: "
                  + " / ".join(f"{values[n]:.3g}" if n in values else "–" for n in ("torch", "tensorflow")))
    else:
        target = "–"
    misses = record.get("misses", [])
    return f"| {page} | {seconds:.0f} s | {cells[0]} | {cells[1]} | {target} | {len(misses)} missed |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="+", default=PAGES, help="chapter/plot_x names (default: five pages)")
    parser.add_argument("--budget", default="full", choices=["smoke", "cpu", "full"])
    parser.add_argument("--device", default="cuda", help="TORCHFLOW_DEVICE for the pages (default cuda)")
    parser.add_argument("--limit", type=float, default=540.0, help="seconds for all pages together")
    parser.add_argument("--out", type=Path, help="also write the table here (Markdown)")
    args = parser.parse_args(argv)
    unknown = [p for p in args.pages if not (ROOT / "examples" / f"{p}.py").is_file()]
    if unknown:
        parser.error(f"no such page: {', '.join(unknown)} (pages are chapter/plot_x, e.g. {PAGES[0]})")

    if not args.device.startswith("cuda"):
        torch_gpus, tf_gpus = [], []
        print(f"--device {args.device}: the GPUs are not asked for")
    else:
        torch_gpus, tf_gpus = machine()
    print(f"PyTorch sees {len(torch_gpus)} GPU(s) {torch_gpus}; TensorFlow sees {len(tf_gpus)} {tf_gpus}")
    if args.device.startswith("cuda") and not torch_gpus:
        print(f"--device {args.device} needs a CUDA GPU and PyTorch sees none here: run this on a GPU machine "
              "(a CUDA build of PyTorch), or pass --device cpu", file=sys.stderr)
        return 2
    if args.device.startswith("cuda") and not tf_gpus:
        print("TensorFlow sees no GPU (tensorflow-cpu, or no CUDA TensorFlow): its twins will fail on "
              f"--device {args.device}; `nox -s docs_gpu` installs TensorFlow with CUDA", file=sys.stderr)

    started, lines, failed = time.perf_counter(), [], False
    header = ["| page | wall | PyTorch (device, mode, step) | TensorFlow (device, mode, step) | first target: "
              "PT / TF | misses |", "|---|---|---|---|---|---|"]
    print("\n".join(header), flush=True)
    for page in args.pages:
        left = args.limit - (time.perf_counter() - started)
        if left < 10:
            lines.append(row(page, 0, None, "not run: the time limit was spent"))
            print(lines[-1], flush=True)
            failed = True
            continue
        path = ROOT / "examples" / f"{page}.py"
        with tempfile.TemporaryDirectory() as records:
            env = {**os.environ, "TORCHFLOW_BUDGET": args.budget, "TORCHFLOW_DEVICE": args.device,
                   "TORCHFLOW_RECORDS": records, "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2",
                   "PYTHONPATH": str(ROOT)}
            began = time.perf_counter()
            try:
                done = subprocess.run([sys.executable, str(path)], cwd=path.parent, env=env, capture_output=True,
                                      text=True, timeout=left)
                problem = "" if done.returncode == 0 else f"exit status {done.returncode}: {done.stderr[-300:]!r}"
            except subprocess.TimeoutExpired:
                problem = f"stopped after {left:.0f} s (the time limit)"
            found = sorted(Path(records).glob("*.json"))
            record = json.loads(found[0].read_text()) if found and not problem else None
            seconds = time.perf_counter() - began
        failed |= record is None or bool(record.get("misses"))
        lines.append(row(page, seconds, record, problem))
        print(lines[-1], flush=True)
    total = time.perf_counter() - started
    print(f"{len(args.pages)} page(s) in {total:.0f} s, budget {args.budget!r}, device {args.device!r}")
    if args.out:
        args.out.write_text("\n".join([*header, *lines]) + f"\n\n{total:.0f} s in all, budget {args.budget!r}, "
                            f"device {args.device!r}, GPUs: PyTorch {torch_gpus}, TensorFlow {tf_gpus}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
