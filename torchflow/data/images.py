"""28x28 grey-scale image datasets: Fashion-MNIST and MNIST, from IDX files.

The sources, in the order :func:`torchflow.data.store.resolve` tries them (``TORCHFLOW_SOURCES``
chooses which are allowed):

1. ``cache``: the canonical IDX ``.gz`` files in ``data_dir()/<name>/``, checked by checksum;
2. ``package``: Debian's ``dataset-fashion-mnist`` (Fashion-MNIST only);
3. ``download``: the canonical files, verified by checksum (never when offline);
4. ``embedded``: the small real subset that ships with TorchFlow (Fashion-MNIST only).

Each file is parsed and checked here (IDX magic number, shape, exact length, and the checksum
of the file or of its decompressed bytes), so a truncated or corrupt file is reported, naming
the file and the fix, and never loaded.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from torchflow.data import archives, filestore, manifests, store
from torchflow.data.filestore import Download
from torchflow.data.store import CorruptFileError, DataError, DatasetInfo, Source

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FULL_COUNTS = {"train": 60_000, "test": 10_000}


@dataclass(frozen=True)
class ImageSpec:
    title: str
    classes: tuple[str, ...]
    url: str  # the folder holding the four files
    md5: dict[str, str]  # published, of the canonical .gz files
    sha256: dict[str, str]  # published, of the canonical .gz files
    content_sha256: dict[str, str]  # of the decompressed bytes: the same whatever the compression
    licence: str
    packages: tuple[tuple[str, str, Path], ...] = ()  # (package, how to install it, directory)
    embedded: str | None = None


IMAGE_DATASETS: dict[str, ImageSpec] = {
    "fashion-mnist": ImageSpec(
        title="Fashion-MNIST",
        classes=(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ),
        # An S3 website endpoint: http only. The files are checked against the digests below.
        url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        # Debian's package re-compresses the files (other .gz digests), so the checked digest
        # is that of the decompressed bytes, the same in both.
        md5={},
        sha256={},
        content_sha256={
            "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        licence="MIT licence (Zalando Research)",
        packages=(("the Debian package dataset-fashion-mnist", "apt-get install dataset-fashion-mnist",
                   Path("/usr/share/datasets/fashion-mnist")),),
        embedded="fashion-mnist-subset",
    ),
    "mnist": ImageSpec(
        title="MNIST",
        classes=tuple(str(i) for i in range(10)),
        # PyTorch's mirror; yann.lecun.com, the original host, refuses downloads since 2024.
        url="https://ossci-datasets.s3.amazonaws.com/mnist/",
        md5={  # torchvision's list
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        sha256={  # tensorflow-datasets' url_checksums (and many projects that pin them)
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
        content_sha256={},
        licence="CC BY-SA 3.0 (LeCun, Cortes and Burges)",
    ),
}


def downloads(name: str, split: str | None = None) -> list[Download]:
    """The canonical files of ``name`` (of one ``split``, or all four), as checked downloads."""
    spec = _spec(name)
    files = SPLIT_FILES[split] if split else [f for pair in SPLIT_FILES.values() for f in pair]
    return [
        Download(spec.url + f, f"{name}/{f}", sha256=spec.sha256.get(f), md5=spec.md5.get(f),
                 content_sha256=spec.content_sha256.get(f), validate=read_idx)
        for f in files
    ]


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
        info = dataclasses.replace(self.info, count=int(count),
                                   note=f"{self.info.note} A class-balanced subset of {len(self):,}.".strip())
        return ImageSet(self.images[order], self.labels[order], self.classes, info)


def read_idx(path: Path, expected_sha256: str | None = None) -> np.ndarray:
    """Parse one gzipped IDX file, checking magic number, shape, length and the checksum of its
    decompressed bytes (``expected_sha256``)."""
    fix = "run `python -m torchflow.data fetch --force` (or reinstall its package, or `git checkout data/embedded`)"
    raw = archives.read_gzip(path, fix)
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
    if expected_sha256 is not None and hashlib.sha256(raw).hexdigest() != expected_sha256:
        raise CorruptFileError(f"{path} has the wrong checksum (corrupt or not the expected dataset); {fix}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def _spec(name: str) -> ImageSpec:
    if name not in IMAGE_DATASETS:
        raise DataError(f"unknown image dataset {name!r}; choose one of {', '.join(IMAGE_DATASETS)}")
    return IMAGE_DATASETS[name]


def _image_set(name: str, split: str, paths: list[Path], origin: str, checks: dict[str, str],
               note: str = "") -> ImageSet:
    spec = _spec(name)
    images, labels = (read_idx(p, checks.get(p.name)) for p in paths)
    labels = labels.astype(np.int64)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise CorruptFileError(f"{paths[0].parent}: images {images.shape} and labels {labels.shape} do not match")
    if labels.max(initial=0) >= len(spec.classes):
        raise CorruptFileError(f"{paths[1]}: label {labels.max()} out of range")
    return ImageSet(images, labels, spec.classes, DatasetInfo(spec.title, split, len(labels), origin, spec.licence,
                                                              note))


def embedded_checksums(name: str) -> dict[str, str]:
    """The sha256 of each embedded file's decompressed bytes, from its folder's ``manifest.json``: a permuted
    label or a zeroed image in the subset fails the load (and ``verify``) like a damaged download."""
    manifest = manifests.read_manifest(_spec(name).embedded)
    try:
        return {filename: entry["sha256"] for filename, entry in manifest["files"].items()}
    except (KeyError, TypeError, AttributeError) as error:
        raise CorruptFileError(f"data/embedded/{_spec(name).embedded}/manifest.json lacks the files' checksums "
                               f"({error!r}); `git checkout data/embedded/{_spec(name).embedded}`") from error


def _idx_count(path: Path) -> int:
    """The item count in an IDX file's header (0 when unreadable; the load reports the damage)."""
    try:
        with gzip.open(path, "rb") as handle:
            return struct.unpack(">I", handle.read(8)[4:8])[0]
    except (OSError, EOFError, struct.error):
        return 0


def sources(name: str, split: str) -> list[Source]:
    """Where ``name``'s ``split`` can come from, in the order they are tried."""
    spec = _spec(name)
    files = SPLIT_FILES[split]

    def canonical(paths: list[Path]) -> ImageSet:
        return _image_set(name, split, paths, f"{paths[0].parent} (canonical files from {spec.url})", {})

    found = filestore.canonical_sources(name, downloads(name, split), canonical)
    for package, install, directory in spec.packages:
        found.insert(1, Source(
            "package",
            lambda d=directory, p=package: _image_set(name, split, [d / f for f in files], f"{p} ({d})",
                                                      spec.content_sha256),
            lambda d=directory: all((d / f).is_file() for f in files),
            package, install,
        ))
    if spec.embedded:
        folder = store.embedded_dir() / spec.embedded
        count = _idx_count(folder / files[1])
        found.append(Source(
            "embedded",
            lambda: _image_set(name, split, [folder / f for f in files],
                               f"data/embedded/{spec.embedded} (see data/README.md)", embedded_checksums(name),
                               f"A class-balanced real subset of {spec.title}."),
            lambda: all((folder / f).is_file() for f in files),
            f"data/embedded/{spec.embedded}", f"`git checkout data/embedded/{spec.embedded}`",
            f"the embedded subset ({count:,} of {FULL_COUNTS[split]:,} images)",
        ))
    return found


def load_images(name: str = "fashion-mnist", split: str = "train", *, allow_subset: bool = True,
                source: str = "auto") -> ImageSet:
    """Load a 28x28 dataset split from the first source allowed and present (module docstring).

    ``source``: ``"auto"`` follows ``TORCHFLOW_SOURCES``; any value that variable takes
    (``"embedded"``, ``"package,embedded"``) chooses for this call. ``allow_subset=False``
    refuses the embedded subset.
    """
    _spec(name)
    if split not in SPLIT_FILES:
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")
    candidates = sources(name, split)
    if not allow_subset:
        candidates = [c for c in candidates if c.kind != "embedded"]
    return store.resolve(name, candidates, source=source)


def checksum_of(path: Path) -> str:
    """SHA-256 of a gzipped file's decompressed bytes (what ``content_sha256`` records)."""
    return filestore.file_digest(path, "sha256", gunzip=True)


def load_domains(name: str = "fashion-mnist", split: str = "train",
                 domains: tuple[str, str] = ("Sneaker", "Ankle boot"), *,
                 source: str = "auto") -> tuple[ImageSet, ImageSet]:
    """Two image domains for unpaired translation (CycleGAN): the images of two classes of ``name``'s ``split``.

    Returns ``(A, B)``, each an :class:`ImageSet` of one class (its labels kept), from the dataset's own
    train/test split and whichever source :func:`load_images` resolves (the embedded subset too).
    """
    spec = _spec(name)
    if len(domains) != 2 or domains[0] == domains[1]:
        raise ValueError(f"give two different classes as the two domains, got {domains!r}")
    unknown = [d for d in domains if d not in spec.classes]
    if unknown:
        raise ValueError(f"{', '.join(map(repr, unknown))} not a class of {spec.title}: {', '.join(spec.classes)}")
    images = load_images(name, split, source=source)
    found = []
    for domain in domains:
        keep = images.labels == spec.classes.index(domain)
        info = dataclasses.replace(images.info, count=int(keep.sum()),
                                   note=f"{images.info.note} The {domain!r} images only.".strip())
        found.append(ImageSet(images.images[keep], images.labels[keep], images.classes, info))
    return found[0], found[1]
