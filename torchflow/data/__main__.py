"""``python -m torchflow.data {list,plan,fetch,verify}``: see and prepare the book's data.

    python -m torchflow.data list              # every dataset, where it would come from here, its checksums
    python -m torchflow.data plan              # where the data of the book's pages will come from, and
                                               # how to get the full data
    python -m torchflow.data fetch [NAME ...]  # download canonical data into the cache (checksummed)
    python -m torchflow.data fetch --force cifar10   # download again; the cached copy is replaced
                                                     # only by a complete, checked one
    python -m torchflow.data verify            # checksum/format check of every file present

TORCHFLOW_SOURCES chooses the sources every loader may use: a comma-separated subset of
download (the canonical data, cached or downloaded), package (e.g. Debian's
dataset-fashion-mnist) and embedded (the small real data in data/embedded); unset means all.
TORCHFLOW_OFFLINE=1 forbids the network.

Exit status: 0 when all went well, 1 when a fetch or a check failed (or the setting is unknown).
"""

from __future__ import annotations

import argparse
import sys

from torchflow.data import catalog, store
from torchflow.data.store import DataError, data_dir, sources_setting


def _list() -> int:
    print(f"cache: {data_dir()}   embedded: {store.embedded_dir()}   sources: {sources_setting()}\n")
    width = max(map(len, catalog.CATALOG))
    for name, item in catalog.CATALOG.items():
        pad = f"{'':<{width}}    "
        print(f"{name:<{width}}  {item.title}  [{item.chapters}]")
        print(f"{pad}here:      {catalog.where(name)}")
        print(f"{pad}canonical: {item.canonical}")
        for download in item.downloads:
            print(f"{pad}  {download.path}: {catalog.checksum_status(download)}")
        print(f"{pad}offline:   {item.offline_source}")
        print(f"{pad}licence:   {item.licence}")
    return 0


def _plan(everything: bool) -> int:
    print(catalog.plan_text(everything=everything))
    return 0


def _fetch(names: list[str], force: bool) -> int:
    failed = 0
    for name in names or list(catalog.CATALOG):
        try:
            print(catalog.fetch(name, force=force))
        except DataError as error:
            failed += 1
            print(f"{name}: FAILED: {error}", file=sys.stderr)
    return 1 if failed else 0


def _verify() -> int:
    results = catalog.verify(progress=sys.stderr.isatty())
    bad = 0
    for kind, path, error in results:
        if error is None:
            print(f"ok       {kind:<8} {path}")
        else:
            bad += 1
            print(f"FAILED   {kind:<8} {path}\n         {error}")
    print(f"{len(results) - bad} ok, {bad} failed")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m torchflow.data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every dataset, where it would come from here, its checksums")
    plan = commands.add_parser("plan", help="where the data of the book's pages will come from")
    plan.add_argument("--all", action="store_true", help="every dataset, not only those of the pages")
    fetch = commands.add_parser("fetch", help="download canonical data into the cache")
    fetch.add_argument("names", nargs="*", help="datasets (default: all)")
    fetch.add_argument("--force", action="store_true", help="download again, replacing the cached copy")
    commands.add_parser("verify", help="check every file present by checksum and format")
    args = parser.parse_args(argv)
    try:
        store.allowed_sources()  # an unknown TORCHFLOW_SOURCES value: say so once, plainly
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.command == "list":
        return _list()
    if args.command == "plan":
        return _plan(args.all)
    if args.command == "fetch":
        return _fetch(args.names, args.force)
    return _verify()


if __name__ == "__main__":
    sys.exit(main())
