"""Measure every example: wall time, peak memory, per-step time and the metrics it reached.

    python tools/run_examples.py --budget cpu [--only vae]

Each example runs alone in a fresh process (as a reader runs it); the results
are written to ``studies/book/examples/<budget>.md`` and ``.json`` (``<budget>-<only>.*``
with ``--only``). Run it on a quiet machine: other jobs on the same cores inflate every number.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "studies" / "book" / "examples"  # the tables it writes (studies/README.md lists the folder)
CHILD = """
import resource, runpy, sys, json
try:
    runpy.run_path(sys.argv[1], run_name="__main__")
finally:
    with open(sys.argv[2], "w") as out:
        json.dump({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, out)
"""


def measure(path: Path, budget: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TORCHFLOW_BUDGET": budget, "MPLBACKEND": "Agg", "TORCHFLOW_RECORDS": tmp,
               "TF_CPP_MIN_LOG_LEVEL": "2"}
        memory_file = Path(tmp) / "memory.out"
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", CHILD, str(path), str(memory_file)], cwd=path.parent,
                                env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if result.returncode != 0:
            import signal

            how = (f"killed by {signal.Signals(-result.returncode).name}" if result.returncode < 0
                   else f"exit status {result.returncode}")
            raise SystemExit(f"{path} failed ({how}) after {wall:.0f} s:\n{result.stderr[-3000:]}")
        records = [json.loads(p.read_text()) for p in Path(tmp).glob("*.json") if p.name != "memory.out"]
        return {"example": str(path.relative_to(ROOT)), "budget": budget, "wall_seconds": round(wall, 1),
                "peak_memory_mb": round(json.loads(memory_file.read_text())["peak_mb"]),
                "record": records[0] if records else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="cpu", choices=["smoke", "cpu", "full"])
    parser.add_argument("--only", default="", help="a substring of the example paths to run")
    args = parser.parse_args()
    examples = [p for p in sorted(ROOT.glob("examples/*/plot_*.py")) if args.only in str(p)]
    rows = []
    for path in examples:
        row = measure(path, args.budget)
        rows.append(row)
        print(f"{row['example']}: {row['wall_seconds']} s, {row['peak_memory_mb']} MB", flush=True)
    lines = [f"# Examples in the `{args.budget}` budget", "",
             f"Measured {time.strftime('%Y-%m-%d')} on {platform.system()} {platform.machine()}, "
             f"{os.cpu_count()} cores, by `python tools/run_examples.py --budget {args.budget}`.", "",
             "| example | wall time | peak memory | twin | ms/step | metrics |", "|---|---|---|---|---|---|"]
    for row in rows:
        for twin in (row["record"] or {}).get("twins", []):
            step = f"{1000 * twin['seconds_per_step']:.2f}" if twin.get("seconds_per_step") else "–"
            metrics = ", ".join(f"{k}: {v:.4g}" for k, v in twin["metrics"].items())
            lines.append(f"| `{row['example']}` | {row['wall_seconds']} s | {row['peak_memory_mb']} MB | "
                         f"{twin['framework']} | {step} | {metrics} |")
    suffix = f"-{args.only}" if args.only else ""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{args.budget}{suffix}.md").write_text("\n".join(lines) + "\n")
    (OUT / f"{args.budget}{suffix}.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
