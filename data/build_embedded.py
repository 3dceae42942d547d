"""Rebuild the embedded Fashion-MNIST subset from the full dataset.

    apt-get install dataset-fashion-mnist   # or have the full set in the cache
    python data/build_embedded.py

Writes data/embedded/fashion-mnist-subset/: a class-balanced real subset
(600 train + 100 test images per class), in the canonical IDX .gz format so the
same parser reads it.
"""

import gzip
import hashlib
import json
import struct
from pathlib import Path

import numpy as np

from torchflow.data.images import SPLIT_FILES, load_images

COUNTS = {"train": 6000, "test": 1000}
OUT = Path(__file__).resolve().parent / "embedded" / "fashion-mnist-subset"


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    # mtime=0 keeps the file byte-identical from one rebuild to the next
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as out:
        out.write(header + array.astype(np.uint8).tobytes())


def write_manifest() -> None:
    """manifest.json: the sha256 of each file's decompressed bytes (checked at every load) and its count."""
    files = {}
    for path in sorted(OUT.glob("*.gz")):
        raw = gzip.decompress(path.read_bytes())
        files[path.name] = {"sha256": hashlib.sha256(raw).hexdigest(), "count": struct.unpack(">I", raw[4:8])[0]}
    manifest = {
        "source": "a class-balanced real subset of Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017), see data/README.md",
        "licence": "MIT licence (Zalando Research)",
        "rebuild": "apt-get install dataset-fashion-mnist && python data/build_embedded.py",
        "checksums": "sha256 of each file's decompressed bytes, checked at every load",
        "files": files,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for split, count in COUNTS.items():
        full = load_images("fashion-mnist", split, source="download,package")
        subset = full.take(count, seed=0)
        image_file, label_file = SPLIT_FILES[split]
        write_idx(OUT / image_file, subset.images)
        write_idx(OUT / label_file, subset.labels)
        print(f"{split}: {len(subset)} images from {full.info.origin}")
    write_manifest()


if __name__ == "__main__":
    main()
