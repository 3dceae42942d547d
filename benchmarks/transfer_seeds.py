"""The transfer-learning page over several seeds, with some hyperparameters changed.

    python benchmarks/transfer_seeds.py --seeds 0 1 2 3 4 [--framework torch] \\
        [--set source_size=30000 --set source_epochs=2] [--processes 2]

Runs ``examples/cnn/plot_3_transfer_learning.py`` in the ``cpu`` budget once per
seed, each in its own process with one thread, after replacing the named entries
of its ``hp`` namespace (``--set NAME=PYTHON_VALUE``) and its seed. Prints and
writes (``--out``, under ``benchmarks/``) each run's final target accuracy of the
three strategies and their mean over the epochs: the evidence behind the table
at the end of the page.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cnn" / "plot_3_transfer_learning.py"
STRATEGIES = ("fine-tune", "fixed features", "from scratch")


def patched_source(settings: dict[str, str], seed: int, example: Path = EXAMPLE) -> str:
    """The example's text with ``hp`` entries replaced (each must exist, on one line)."""
    source = example.read_text()
    for name, value in {**settings, "seed": str(seed)}.items():
        source, count = re.subn(rf"^(\s+){name}=.*?,(\s*#.*)?$", rf"\g<1>{name}={value},", source, count=1,
                                flags=re.MULTILINE)
        if not count:
            raise SystemExit(f"no hyperparameter {name!r} in {EXAMPLE.name}")
    return source


def one_run(seed: int, settings: dict[str, str], framework: str, example: Path = EXAMPLE) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / EXAMPLE.name
        script.write_text(patched_source(settings, seed, example))
        env = {**os.environ, "TORCHFLOW_BUDGET": "cpu", "TORCHFLOW_FRAMEWORKS": framework, "MPLBACKEND": "Agg",
               "TORCHFLOW_RECORDS": tmp, "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1",
               "TF_CPP_MIN_LOG_LEVEL": "2"}
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], cwd=EXAMPLE.parent, env=env, capture_output=True,
                                text=True)
        if result.returncode:
            raise SystemExit(f"seed {seed} failed:\n{result.stderr[-3000:]}")
        record = json.loads((Path(tmp) / "cnn-transfer-learning.json").read_text())
    metrics = {t["framework"]: t["metrics"] for t in record["twins"]}[framework]
    return {"seed": seed, "seconds": time.perf_counter() - started, "metrics": metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--framework", default="torch", choices=["torch", "tensorflow"])
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--example", type=Path, default=EXAMPLE, help="an edited copy of the page to run instead")
    parser.add_argument("--out", default="", help="a Markdown file under benchmarks/ to write the table to")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)
    with ThreadPoolExecutor(args.processes) as pool:
        runs = list(pool.map(lambda seed: one_run(seed, settings, args.framework, args.example), args.seeds))
    rows = [f"| {r['seed']} | " + " / ".join(f"{100 * r['metrics'][f'target accuracy, {s}']:.1f}" for s in STRATEGIES)
            + " | " + " / ".join(f"{100 * r['metrics'][f'mean over epochs, {s}']:.1f}" for s in STRATEGIES)
            + f" | {r['seconds']:.0f} s |" for r in runs]
    mean = {s: sum(r["metrics"][f"target accuracy, {s}"] for r in runs) / len(runs) for s in STRATEGIES}
    edited = "" if args.example == EXAMPLE else f" --example {args.example.name}"
    lines = [f"`python benchmarks/transfer_seeds.py{edited} --framework {args.framework} --seeds "
             f"{' '.join(map(str, args.seeds))}" + "".join(f" --set {k}={v}" for k, v in settings.items())
             + f"` on {time.strftime('%Y-%m-%d')}, one thread per run:", "",
             "| seed | final target accuracy, % (fine-tune / fixed / scratch) | mean over epochs, % | time |",
             "|---|---|---|---|", *rows,
             f"| mean | {' / '.join(f'{100 * mean[s]:.1f}' for s in STRATEGIES)} | | |"]
    print("\n".join(lines))
    if args.out:
        path = ROOT / "benchmarks" / args.out
        with path.open("a") as out:
            out.write("\n".join(lines) + "\n\n")
        print(f"appended to {path}")


if __name__ == "__main__":
    main()
