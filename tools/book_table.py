"""The README's "Measured" table and `benchmarks/times.toml`'s page times, from one book build's records.

    python tools/book_table.py                      # the table, from docs/_build/records (book order)
    python tools/book_table.py --times              # the [pages.<budget>] lines for benchmarks/times.toml

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, default=ROOT / "docs" / "_build" / "records")
    parser.add_argument("--times", action="store_true", help="print the [pages.<budget>] table instead")
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
