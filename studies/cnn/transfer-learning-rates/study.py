"""The transfer-learning page over seeds and candidate learning rates, chosen on validation.

    python studies/cnn/transfer-learning-rates/study.py --seeds 0 1 2 --frameworks torch tensorflow \\
        --lr fine-tune=0.001,0.002,0.005 --lr "fixed features=0.005,0.01,0.02" \\
        --lr "from scratch=0.002,0.005,0.01" [--set NAME=PYTHON_VALUE] [--processes 2]

Runs ``examples/cnn/plot_3_transfer_learning.py`` in the ``cpu`` budget once per
framework, seed and candidate (the k-th candidate of every strategy in run k:
the three strategies train independently after the shared pretraining), each in
its own process with one thread, after replacing entries of its ``hp``
namespace (``--set``, ``learning_rate`` and ``seed``).

Each strategy's learning rate is chosen by its **validation** accuracy after the
last epoch, averaged over seeds and the twins named by ``--select-on`` (default:
all); the other twins run only at the chosen rates. Test accuracy is only
reported, at the chosen rates. Writes ``studies/cnn/transfer-learning-rates/results.json`` (read
by the page, which prints the table and checks its own row against what it
measured in the same build) and ``studies/cnn/transfer-learning-rates/results.md``, both generated.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]  # the repository
EXAMPLE = ROOT / "examples" / "cnn" / "plot_3_transfer_learning.py"
STRATEGIES = ("fine-tune", "fixed features", "from scratch")
LABELS = {"torch": "PyTorch", "tensorflow": "TensorFlow"}


def patched_source(settings: dict[str, str], example: Path = EXAMPLE) -> str:
    """The example's text with ``hp`` entries replaced (each must exist, on one line)."""
    source = example.read_text()
    for name, value in settings.items():
        source, count = re.subn(rf"^(\s+){name}=.*?,(\s*#.*)?$", lambda m, n=name, v=value: f"{m[1]}{n}={v},",
                                source, count=1, flags=re.MULTILINE)
        if not count:
            raise SystemExit(f"no hyperparameter {name!r} in {example.name}")
    return source


def one_run(framework: str, seed: int, rates: dict[str, float], settings: dict[str, str],
            example: Path = EXAMPLE, budget: str = "cpu") -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / EXAMPLE.name
        script.write_text(patched_source({**settings, "learning_rate": repr(rates), "seed": str(seed)}, example))
        env = {**os.environ, "TORCHFLOW_BUDGET": budget, "TORCHFLOW_FRAMEWORKS": framework, "MPLBACKEND": "Agg",
               "TORCHFLOW_RECORDS": tmp, "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1",
               "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], cwd=EXAMPLE.parent, env=env, capture_output=True,
                                text=True)
        if result.returncode:
            raise SystemExit(f"{framework} seed {seed} {rates} failed:\n{result.stderr[-3000:]}")
        record = json.loads((Path(tmp) / "plot_3_transfer_learning.json").read_text())
    twin = next(t for t in record["twins"] if t["framework"] == framework)
    print(f"{framework} seed {seed} {rates}: {time.perf_counter() - started:.0f} s", flush=True)
    return {"framework": framework, "seed": seed, "learning_rate": rates, "metrics": twin["metrics"],
            "data": record["data"], "seconds": round(time.perf_counter() - started, 1)}


def choose(runs: list[dict]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Per strategy: the rate with the best mean final validation accuracy, and every rate's mean."""
    scores: dict[str, dict[str, float]] = {}
    for strategy in STRATEGIES:
        by_rate: dict[float, list[float]] = {}
        for r in runs:
            score = r["metrics"][f"validation accuracy, {strategy}"]
            by_rate.setdefault(r["learning_rate"][strategy], []).append(score)
        scores[strategy] = {str(rate): sum(v) / len(v) for rate, v in sorted(by_rate.items())}
    selected = {s: float(max(scores[s], key=scores[s].get)) for s in STRATEGIES}
    return selected, scores


def table(runs: list[dict], selected: dict[str, float]) -> list[dict]:
    """One row per framework and seed: each strategy's numbers at its chosen rate."""
    rows = []
    for (framework, seed), group in itertools.groupby(sorted(runs, key=lambda r: (r["framework"], r["seed"])),
                                                      key=lambda r: (r["framework"], r["seed"])):
        group = list(group)
        at = {s: next(r for r in group if r["learning_rate"][s] == selected[s])["metrics"] for s in STRATEGIES}
        rows.append({"framework": framework, "seed": seed, "seconds": max(r["seconds"] for r in group),
                     "test": {s: at[s][f"target test accuracy, {s}"] for s in STRATEGIES},
                     "validation": {s: at[s][f"validation accuracy, {s}"] for s in STRATEGIES},
                     "mean validation": {s: at[s][f"mean validation accuracy over the epochs, {s}"]
                                         for s in STRATEGIES}})
    return rows


def markdown(result: dict) -> str:
    pct = "{:.1f}".format
    lines = ["# Transfer learning over seeds (generated by `studies/cnn/transfer-learning-rates/study.py`; "
             "do not edit)", "",
             f"`{result['command']}` on {result['date']}, {result['threads']} thread per run, "
             f"{result['minutes']:.0f} min in all. Data: {result['data']}", "",
             "Each strategy's learning rate is chosen by its validation accuracy after the last epoch, averaged "
             f"over seeds and {' and '.join(LABELS[f] for f in result['select_on'])}; test accuracy is reported "
             "only at the chosen rates.", "",
             "Known limitation: the task itself (twenty labelled images per target class, and which five classes "
             "are source and which target) was chosen in earlier versions of the page by looking at test accuracy, "
             "and has not been re-chosen on validation; this study takes it as given.", "",
             "| strategy | learning rate: mean validation accuracy, % | chosen |", "|---|---|---|"]
    for s in STRATEGIES:
        lines.append(f"| {s} | " + ", ".join(f"{rate}: {pct(100 * v)}" for rate, v in result["scores"][s].items())
                     + f" | {result['selected'][s]} |")
    lines += ["", "At the chosen rates, % (fine-tune / fixed features / from scratch):", "",
              "| framework | seed | test accuracy | validation accuracy | mean validation accuracy over the epochs |",
              "|---|---|---|---|---|"]
    for row in result["table"]:
        cells = [" / ".join(pct(100 * row[k][s]) for s in STRATEGIES) for k in ("test", "validation",
                                                                                 "mean validation")]
        lines.append(f"| {LABELS[row['framework']]} | {row['seed']} | " + " | ".join(cells) + " |")
    for framework in result["frameworks"]:
        rows = [r for r in result["table"] if r["framework"] == framework]
        ahead = sum(r["test"]["fine-tune"] > r["test"]["from scratch"] for r in rows)
        faster = sum(r["mean validation"]["fine-tune"] > r["mean validation"]["from scratch"] for r in rows)
        mean = " / ".join(pct(100 * sum(r["test"][s] for r in rows) / len(rows)) for s in STRATEGIES)
        lines += ["", f"{LABELS[framework]}: mean test accuracy {mean}; fine-tuning ends ahead of training from "
                  f"scratch in {ahead} of {len(rows)} seeds and learns faster (higher mean validation accuracy "
                  f"over the epochs) in {faster} of {len(rows)}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--frameworks", nargs="+", default=["torch", "tensorflow"], choices=list(LABELS))
    parser.add_argument("--lr", action="append", default=[], metavar="STRATEGY=R1,R2,...",
                        help="candidate learning rates of one strategy (all strategies: as many candidates)")
    parser.add_argument("--select-on", nargs="+", choices=list(LABELS), default=None,
                        help="the twins whose validation accuracy chooses the rates (default: all of --frameworks); "
                             "the others run only at the chosen rates")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--example", type=Path, default=EXAMPLE, help="an edited copy of the page to run instead")
    parser.add_argument("--budget", default="cpu", help="the page's budget (smoke: to try this script)")
    parser.add_argument("--out", default="results", help="name of the .json and .md in this study's folder")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)
    candidates = {s: [float(v) for v in rates.split(",")] for s, rates in (item.split("=", 1) for item in args.lr)}
    missing = set(STRATEGIES) - set(candidates)
    if missing or len({len(v) for v in candidates.values()}) != 1:
        raise SystemExit(f"give --lr for each of {STRATEGIES}, with as many candidates each")
    select_on = args.select_on or args.frameworks
    jobs = [(framework, seed, {s: candidates[s][k] for s in STRATEGIES})
            for framework in select_on for seed in args.seeds for k in range(len(candidates["fine-tune"]))]
    started = time.perf_counter()
    with ThreadPoolExecutor(args.processes) as pool:
        runs = list(pool.map(lambda job: one_run(*job, settings, args.example, args.budget), jobs))
        selected, scores = choose(runs)
        others = [(framework, seed, selected) for framework in args.frameworks if framework not in select_on
                  for seed in args.seeds]  # the other twin only at the chosen rates
        runs += list(pool.map(lambda job: one_run(*job, settings, args.example, args.budget), others))
    command = ("python studies/cnn/transfer-learning-rates/study.py --seeds " + " ".join(map(str, args.seeds))
               + " --frameworks "
               + " ".join(args.frameworks) + (f" --select-on {' '.join(select_on)}" if args.select_on else "")
               + "".join(f' --lr "{s}={",".join(map(str, candidates[s]))}"'
                                                     for s in STRATEGIES)
               + "".join(f" --set {k}={v}" for k, v in settings.items())
               + ("" if args.example == EXAMPLE else f" --example {args.example.name}")
               + ("" if args.budget == "cpu" else f" --budget {args.budget}"))
    result = {"command": command, "date": time.strftime("%Y-%m-%d"), "threads": 1, "select_on": select_on,
              "budget": args.budget,
              "minutes": (time.perf_counter() - started) / 60, "frameworks": args.frameworks,
              "data": runs[0]["data"][0], "settings": settings,
              "candidates": candidates, "scores": scores, "selected": selected,
              "table": table(runs, selected), "runs": runs}
    (HERE / f"{args.out}.json").write_text(json.dumps(result, indent=1) + "\n")
    (HERE / f"{args.out}.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
