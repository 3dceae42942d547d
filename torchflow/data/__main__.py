"""``python -m torchflow.data {list,fetch,verify}``: see and prepare the book's data.

    python -m torchflow.data list              # every dataset and where it would come from here
    python -m torchflow.data fetch [NAME ...]  # download canonical data into the cache (checksummed)
    python -m torchflow.data fetch --force cifar10   # drop the cached copy first, then fetch again
    python -m torchflow.data verify            # checksum/format check of every file present

Exit status: 0 when all went well, 1 when a fetch or a check failed.
"""

from __future__ import annotations

import argparse
import sys

from torchflow.data import catalog, store
from torchflow.data.store import DataError, data_dir, offline


def _list() -> int:
    print(
        f"cache: {data_dir()}   embedded: {store.embedded_dir()}   offline: {'yes' if offline() else 'no'}\n"
    )
    width = max(map(len, catalog.CATALOG))
    for name, item in catalog.CATALOG.items():
        print(f"{name:<{width}}  {item.title}  [{item.chapters}]")
        print(f"{'':<{width}}    here:      {catalog.where(name)}")
        print(f"{'':<{width}}    canonical: {item.canonical}")
        print(f"{'':<{width}}    offline:   {item.offline_source}")
        print(f"{'':<{width}}    licence:   {item.licence}")
    return 0


def _fetch(names: list[str], force: bool) -> int:
    failed = 0
    for name in names or list(catalog.CATALOG):
        try:
            item = catalog.entry(name)
            if force:
                for relative in item.cache_files:
                    path = data_dir() / relative
                    for stale in (path, path.with_name(path.name + ".sha256")):
                        stale.unlink(missing_ok=True)
            print(catalog.fetch(name))
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
    commands.add_parser("list", help="every dataset and where it would come from here")
    fetch = commands.add_parser("fetch", help="download canonical data into the cache")
    fetch.add_argument("names", nargs="*", help="datasets (default: all)")
    fetch.add_argument("--force", action="store_true", help="delete the cached copy first")
    commands.add_parser("verify", help="check every file present by checksum and format")
    args = parser.parse_args(argv)
    if args.command == "list":
        return _list()
    if args.command == "fetch":
        return _fetch(args.names, args.force)
    return _verify()


if __name__ == "__main__":
    sys.exit(main())
