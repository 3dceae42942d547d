"""Time the whole book in one budget, one example at a time and several at once.

    python tools/book_build.py [--budget cpu] [--jobs 1 2]

For each ``--jobs`` value it runs ``TORCHFLOW_CLEAN=1 TORCHFLOW_JOBS=N nox -s docs``
(a clean build: every example re-runs), takes the wall time and the peak
resident memory of the build (``/usr/bin/time -v`` where it exists), and reads
the records the examples wrote (``docs/_build/records``): each page's wall time,
both twins' metrics and time per step. The results go to
``studies/book/build-time/<budget>.md``. Run it on a quiet machine with the venv
already installed (``nox -s docs`` once), or the install is timed too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "docs" / "_build" / "records"


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {round(seconds % 60):02d} s"


def build(budget: str, jobs: int) -> dict:
    """One clean build; returns its wall time, peak memory and the pages' records."""
    env = {**os.environ, "TORCHFLOW_BUDGET": budget, "TORCHFLOW_JOBS": str(jobs), "TORCHFLOW_CLEAN": "1"}
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    started = time.perf_counter()
    result = subprocess.run([*timer, "nox", "-s", "docs"], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"the build with {jobs} job(s) failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    return {"jobs": jobs, "wall": wall, "peak_gb": int(peak.group(1)) / 1024**2 if peak else None,
            "pages": [json.loads(path.read_text()) for path in sorted(RECORDS.glob("*.json"))]}


def page_rows(pages: list[dict]) -> list[str]:
    """One row per page and twin: wall time of the page, ms per step, metrics."""
    rows = ["| page | wall time | threads | twin | ms/step | metrics |", "|---|---|---|---|---|---|"]
    for page in pages:
        threads = page["platform"].rsplit(", ", 1)[-1]
        for twin in page["twins"]:
            step = f"{twin['seconds_per_step'] * 1000:.1f}" if twin.get("seconds_per_step") else "–"
            metrics = ", ".join(f"{name}: {value:.3g}" for name, value in twin["metrics"].items())
            rows.append(f"| {page['name']} | {page['wall_seconds']:.0f} s | {threads} | {twin['framework']} "
                        f"| {step} | {metrics} |")
    return rows


def report(budget: str, builds: list[dict]) -> str:
    lines = [f"# The whole book in the `{budget}` budget", "",
             f"`python tools/book_build.py --budget {budget} --jobs "
             f"{' '.join(str(b['jobs']) for b in builds)}` on {time.strftime('%Y-%m-%d')}: "
             f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, no GPU; "
             "the shared venv already installed.", "",
             "| examples at once | threads each | whole build | peak memory of the build |", "|---|---|---|---|"]
    cores = len(os.sched_getaffinity(0))
    for b in builds:
        peak = f"{b['peak_gb']:.1f} GB" if b["peak_gb"] else "–"
        lines.append(f"| {b['jobs']} | {max(1, cores // b['jobs'])} | **{minutes(b['wall'])}** | {peak} |")
    for b in builds:
        lines += ["", f"## {b['jobs']} example(s) at a time", "", *page_rows(b["pages"])]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="cpu", choices=["smoke", "cpu", "full"])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if not shutil.which("nox"):
        raise SystemExit("nox is not installed: pip install nox")
    builds = []
    for jobs in args.jobs:
        print(f"building the book with {jobs} example(s) at a time ...", flush=True)
        builds.append(build(args.budget, jobs))
        print(f"  {minutes(builds[-1]['wall'])}", flush=True)
    out = ROOT / "studies" / "book" / "build-time" / f"{args.budget}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report(args.budget, builds))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
