"""The VAE chapter's pages on each data source: metric against target, full data and embedded subset.

    python studies/vae/data-sources/study.py [--budget cpu] [--pages plot_1_vae plot_2_cvae] [--jobs 2]

Runs each page as a reader does (``python plot_1_vae.py``, one thread per
framework), once with the full Fashion-MNIST and once with only the embedded
6,000-image subset (``TORCHFLOW_SOURCES=embedded`` and an empty data directory
of its own, so the judge is trained on the subset, as on a fresh machine without
the data; where the data layer does not know the switch yet, the full sources
are hidden from the loader). Two runs at a time by default, as in ``nox -s
docs`` on two cores. Writes ``results.md`` beside this script (``results-<budget>.md``
for a budget other than ``cpu``) from the pages' own records.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import runpy
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[2] / "examples" / "vae"


def child(page: str, source: str) -> None:
    """Run one page in this process (``source``: ``full`` or ``embedded``)."""
    if source == "embedded":
        import torchflow.data
        from torchflow.data import images

        if not hasattr(torchflow.data, "SOURCES_ENV"):
            images._fetch_full = lambda *args, **kwargs: None  # the switch has not landed: hide the full sources
    script = EXAMPLES / f"{page}.py"
    os.chdir(EXAMPLES)
    sys.argv = [str(script)]
    runpy.run_path(str(script), run_name="__main__")


def run_one(page: str, source: str, budget: str, records: Path, data: Path) -> tuple[str, str, float, int]:
    env = dict(os.environ, TORCHFLOW_BUDGET=budget, MPLBACKEND="Agg", OMP_NUM_THREADS="1",
               TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1",
               TORCHFLOW_RECORDS=str(records / source))
    if source == "embedded":
        env.update(TORCHFLOW_SOURCES="embedded", TORCHFLOW_OFFLINE="1", TORCHFLOW_DATA=str(data))
    started = time.perf_counter()
    log = records / f"{page}-{source}.log"
    with open(log, "w") as out:
        code = subprocess.call([sys.executable, __file__, "--child", page, source], env=env, stdout=out,
                               stderr=subprocess.STDOUT)
    return page, source, time.perf_counter() - started, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="cpu")
    parser.add_argument("--pages", nargs="+", default=["plot_1_vae", "plot_2_cvae"])
    parser.add_argument("--sources", nargs="+", default=["full", "embedded"])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "torchflow-embedded-only"),
                        help="data directory of the embedded runs (its judge is reused by later runs)")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    records = Path(tempfile.mkdtemp(prefix="vae-sources-"))
    runs = [(page, source) for page in args.pages for source in args.sources]
    with ThreadPoolExecutor(args.jobs) as pool:
        done = list(pool.map(lambda ps: run_one(*ps, args.budget, records, Path(args.data)), runs))
    lines = [
        f"# The VAE chapter in the `{args.budget}` budget: full data and embedded subset",
        "",
        f"`python studies/vae/data-sources/study.py --budget {args.budget} --jobs {args.jobs}` on "
        f"{time.strftime('%Y-%m-%d')}: {platform.machine()}, {os.cpu_count()} cores shared with other jobs, "
        f"{args.jobs} page(s) at a time, one thread each. 'embedded': `TORCHFLOW_SOURCES=embedded` "
        "and an empty data directory (the judge trained on the subset, as on a fresh machine).",
        "",
        "| page | data | wall time | twin | ms/step | metric | value | target | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for page, source, seconds, code in done:
        path = records / source / f"{'vae' if page == 'plot_1_vae' else 'cvae'}.json"
        if code or not path.exists():
            lines.append(f"| {page} | {source} | {seconds:.0f} s | – | – | failed (exit {code}, "
                         f"see {records / f'{page}-{source}.log'}) | | | |")
            continue
        record = json.loads(path.read_text())
        targets = {t.split(" ≥ ")[0].split(" ≤ ")[0]: t for t in record["targets"]}
        for twin in record["twins"]:
            for metric, value in twin["metrics"].items():
                target = targets.get(metric, "")
                met = "" if not target else ("no" if any(metric in m and twin_label(twin) in m
                                                         for m in record["misses"]) else "yes")
                ms = f"{1000 * twin['seconds_per_step']:.2f}" if twin["seconds_per_step"] else "–"
                lines.append(f"| {page} | {source} | {record['wall_seconds']:.0f} s | {twin['framework']} | {ms} | "
                             f"{metric} | {value:.4g} | {target.split(' ', len(metric.split()))[-1] if target else ''} "
                             f"| {met} |")
    out = HERE / ("results.md" if args.budget == "cpu" else f"results-{args.budget}.md")
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"logs in {records}")


def twin_label(twin: dict) -> str:
    return {"torch": "PyTorch", "tensorflow": "TensorFlow"}.get(twin["framework"], twin["framework"])


if __name__ == "__main__":
    main()
