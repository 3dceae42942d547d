"""The README's "Measured" table and `benchmarks/times.toml`'s page times, from one book build's records.

    python tools/book_table.py                      # the table, from docs/_build/records (book order)
    python tools/book_table.py --times              # the [pages.<budget>] lines for benchmarks/times.toml
    python tools/book_table.py --speed              # ms/step per twin, its mode, FLOPs and share of peak

Each row: the page, its wall time, its first stated target, the strongest cheap baseline of that metric, both
twins' values of it (PyTorch / TensorFlow) and the verdict over all its targets.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ["cnn", "vae", "gan", "rnn", "embeddings", "seq2seq"]


def book_order() -> list[str]:
    return [path.stem for chapter in CHAPTERS for path in sorted((ROOT / "examples" / chapter).glob("plot_*.py"))]


def _value(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def row(record: dict) -> str:
    verdict = record.get("verdict") or []
    first = verdict[0] if verdict else None
    target = f"{first['metric']} {first['target']}" if first else "–"
    baseline = first.get("baseline") if first else None
    shown = f"{baseline['name']} {_value(baseline['value'])}" if baseline else "–"
    twins = {check["twin"]: check["value"] for check in first["checks"]} if first else {}
    values = " / ".join(_value(twins.get(name)) for name in ("torch", "tensorflow"))
    misses, below = len(record.get("misses", [])), len(record.get("below_baseline", []))
    outcome = ("missed" if misses else "met") + (", below a baseline" if below else "")
    return (f"| {record['page']} | {record['wall_seconds']:.0f} s | {target} | {shown} | {values} | {outcome} "
            f"({misses} misses, {below} below) |")


def _ms(twin: dict | None) -> str:
    if not twin or not twin.get("seconds_per_step"):
        return "–"
    return f"{1000 * twin['seconds_per_step']:.2f} ({twin.get('mode') or 'eager'})"


def speed_row(record: dict) -> str:
    """ms/step of each twin with its execution mode, their ratio, the step's FLOPs and the share of the
    measured matmul peak each twin reaches (torchflow/speed.py)."""
    twins = {t["framework"]: t for t in record.get("twins", [])}
    torch, tf = twins.get("torch"), twins.get("tensorflow")
    times = [t.get("seconds_per_step") if t else None for t in (torch, tf)]
    ratio = f"{times[1] / times[0]:.2f}" if all(times) else "–"
    within = "yes" if all(times) and abs(times[1] / times[0] - 1) <= 0.10 else "no" if all(times) else "–"
    flops = (torch or {}).get("flops_per_step")
    at_least = "≥ " if (torch or {}).get("flops_uncounted") else ""  # a recurrent kernel was not counted
    peaks = record.get("peak_flops") or {}
    shares = []
    for name, seconds in zip(("torch", "tensorflow"), times, strict=True):
        peak = peaks.get(name)
        shares.append(f"{at_least}{100 * flops / seconds / peak:.1f} %" if flops and seconds and peak else "–")
    gflop = f"{at_least}{flops / 1e9:.3g}" if flops is not None else "–"
    return f"| {record['page']} | {_ms(torch)} | {_ms(tf)} | {ratio} | {within} | {gflop} | {' / '.join(shares)} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, default=ROOT / "docs" / "_build" / "records")
    parser.add_argument("--times", action="store_true", help="print the [pages.<budget>] table instead")
    parser.add_argument("--speed", action="store_true", help="print the step-speed table instead")
    args = parser.parse_args(argv)
    records = {}
    for stem in book_order():
        path = args.records / f"{stem}.json"
        if not path.is_file():
            print(f"no record for {stem} in {args.records}: build the book first", file=sys.stderr)
            return 1
        records[stem] = {**json.loads(path.read_text(encoding="utf-8")), "page": stem}
    budgets = {record["budget"] for record in records.values()}
    if len(budgets) != 1:
        print(f"records of several budgets ({', '.join(sorted(budgets))}): rebuild the book in one", file=sys.stderr)
        return 1
    if args.times:
        print(f"[pages.{budgets.pop()}]")
        for stem in sorted(records):
            print(f"{stem} = {records[stem]['wall_seconds']:.0f}")
        return 0
    if args.speed:
        print("| page | PyTorch ms/step (mode) | TensorFlow ms/step (mode) | TF / PT | within 10 % | GFLOP/step "
              "| share of peak, PT / TF |")
        print("|---|---|---|---|---|---|---|")
        for record in records.values():
            print(speed_row(record))
        peaks = {name: peak for record in records.values() for name, peak in (record.get("peak_flops") or {}).items()}
        print("\nmatmul peak (the last page's measurement): " + ", ".join(
            f"{name} {peak / 1e9:.0f} GFLOP/s" for name, peak in peaks.items()), file=sys.stderr)
        return 0
    print("| page | time | first target | strongest baseline | PyTorch / TensorFlow | verdict |")
    print("|---|---|---|---|---|---|")
    for record in records.values():
        print(row(record))
    total = sum(record["wall_seconds"] for record in records.values())
    print(f"\npages' wall time added up: {total / 60:.1f} min ({total / 120:.1f} min for two at a time, "
          "perfectly split)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
