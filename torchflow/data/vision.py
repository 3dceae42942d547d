"""Image datasets beyond the 28x28 ones: CIFAR-10, two CycleGAN domains, a transfer-learning split.

No offline copy of CIFAR-10 or horse2zebra exists, so when no source allowed by
``TORCHFLOW_SOURCES`` has them (not cached, not downloadable, or ``download`` not allowed)
these loaders use real Fashion-MNIST images from the sources allowed instead, and their
:class:`DatasetInfo` says so (name, ``what``, ``reason``, note); they never invent data.
``source="canonical"`` asks for the canonical dataset or an error.
"""

from __future__ import annotations

import dataclasses
import io
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from torchflow.data import filestore, store
from torchflow.data.filestore import Download
from torchflow.data.images import ImageSet, load_images
from torchflow.data.store import CorruptFileError, DataError, DatasetInfo, Unavailable

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"  # 170,052,171 bytes
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_FILES = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}

# The CycleGAN datasets moved here in 2023 (people.eecs.berkeley.edu/~taesung_park answers 404);
# tensorflow-datasets moved with them. The archives, and so their digests, are unchanged.
CYCLEGAN_URL = "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
CYCLEGAN_SHA256 = {
    "horse2zebra": "a74d9d392eecca9966b51287a76ca126af473d9de4f3e8fc0e9cda08fa1730a1",
    "apple2orange": "845a191e9af8926408ea597001cd03a452e3300a1f44a79fe329b3d59f6e3eb8",
}
# Offline domains: two Fashion-MNIST classes with the same footwear outline and different detail.
OFFLINE_DOMAINS = (7, 9)  # Sneaker, Ankle boot

# Transfer learning: each task has tops and footwear, so features learnt on the source task are of some use on
# the target task (as ImageNet features are on most photographs). Chosen by measurement (ResNet-18, PyTorch,
# three seeds): with the first five classes as source (clothes) and the last five as target (mostly shoes),
# training from scratch on the target task beat fine-tuning in two seeds of three.
TRANSFER_SOURCE_CLASSES = (0, 1, 2, 5, 8)  # T-shirt/top, Trouser, Pullover, Sandal, Bag
TRANSFER_TARGET_CLASSES = (3, 4, 6, 7, 9)  # Dress, Coat, Shirt, Sneaker, Ankle boot


CIFAR10_DOWNLOAD = Download(CIFAR10_URL, "cifar10/cifar-10-binary.tar.gz", sha256=CIFAR10_SHA256)
CYCLEGAN_DOWNLOADS = {
    name: Download(CYCLEGAN_URL.format(name=name), f"cyclegan/{name}.zip", sha256=digest)
    for name, digest in CYCLEGAN_SHA256.items()
}


def _check_split(split: str) -> None:
    if split not in ("train", "test"):
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")


def _fashion_standing_in(title: str, split: str, source: str, missing: Unavailable) -> ImageSet:
    """Fashion-MNIST from the sources the call allows, when ``title`` is not available (``missing``)."""
    if source == "canonical":
        raise missing
    fashion = load_images("fashion-mnist", split, source=source)
    reason = (f"{title} is not available here ({'; '.join(missing.reasons)}); Fashion-MNIST was then chosen "
              f"because {fashion.info.reason}")
    return dataclasses.replace(fashion, info=dataclasses.replace(fashion.info, reason=reason))


# ----------------------------------------------------------------------------- CIFAR-10


def _read_cifar_tar(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            for filename in CIFAR10_FILES[split]:
                if filename not in members:
                    raise CorruptFileError(f"{path} lacks {filename} (wrong format); {filestore.fetch_fix('cifar10')}")
                raw = tar.extractfile(members[filename]).read()
                if len(raw) % 3073:
                    raise CorruptFileError(
                        f"{path}:{filename} is not CIFAR-10 binary records; {filestore.fetch_fix('cifar10')}"
                    )
                records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)
                labels.append(records[:, 0].astype(np.int64))
                images.append(records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    except (tarfile.TarError, OSError, EOFError) as error:
        fix = filestore.fetch_fix("cifar10")
        raise CorruptFileError(f"{path} is truncated or not a tar.gz ({error}); {fix}") from error
    return np.concatenate(images), np.concatenate(labels)


def fashion_as_rgb32(images: np.ndarray) -> np.ndarray:
    """28x28 grey -> 32x32x3: zero-padded by 2 pixels, the grey copied into three channels."""
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    return np.repeat(padded[..., None], 3, axis=-1)


def cifar10_sources(split: str = "train") -> list[store.Source]:
    """Where CIFAR-10 itself can come from (the cache or a download); Fashion-MNIST stands in after."""

    def canonical(paths: list[Path]) -> ImageSet:
        images, labels = _read_cifar_tar(paths[0], split)
        info = DatasetInfo("CIFAR-10", split, len(labels), CIFAR10_URL,
                           "MIT-style terms of the CIFAR-10 page (Krizhevsky, 2009)")
        return ImageSet(images, labels, CIFAR10_CLASSES, info)

    return filestore.canonical_sources("cifar10", [CIFAR10_DOWNLOAD], canonical)


def load_cifar10(split: str = "train", *, source: str = "auto") -> ImageSet:
    """CIFAR-10 as ``uint8`` images ``(N, 32, 32, 3)`` and ``int64`` labels 0..9.

    Offline (or ``source="offline"``): Fashion-MNIST padded to 32x32 and copied into three
    channels, with its own ten classes; ``info.name`` and ``info.note`` say so.
    """
    _check_split(split)
    try:
        return store.resolve("cifar10", cifar10_sources(split), source=source)
    except Unavailable as missing:
        fashion = _fashion_standing_in("CIFAR-10", split, source, missing)
    info = dataclasses.replace(
        fashion.info,
        name="Fashion-MNIST (standing in for CIFAR-10)",
        what=f"{fashion.info.what}, standing in for CIFAR-10",
        note=f"No offline copy of CIFAR-10 exists: these are Fashion-MNIST images padded to 32x32 and "
        f"copied into 3 channels. {fashion.info.note}".strip(),
    )
    return ImageSet(fashion_as_rgb32(fashion.images), fashion.labels, fashion.classes, info)


# ----------------------------------------------------------------------------- CycleGAN domains


@dataclass(frozen=True)
class Domains:
    """Two unpaired image domains: ``a`` and ``b`` are ``uint8`` arrays ``(N, H, W)`` or ``(N, H, W, 3)``."""

    a: np.ndarray
    b: np.ndarray
    names: tuple[str, str]
    info: DatasetInfo

    def describe(self) -> str:
        return self.info.describe()


def _read_cyclegan_zip(path: Path, name: str, split: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    out = []
    try:
        with zipfile.ZipFile(path) as archive:
            for domain in ("A", "B"):
                prefix = f"{name}/{split}{domain}/"
                members = sorted(n for n in archive.namelist() if n.startswith(prefix) and n.endswith(".jpg"))
                if not members:
                    raise CorruptFileError(
                        f"{path} has no {prefix}*.jpg (wrong format); {filestore.fetch_fix('cyclegan')}")
                images = []
                for member in members:
                    with Image.open(io.BytesIO(archive.read(member))) as image:
                        image = image.convert("RGB").resize((size, size), Image.BILINEAR)
                        images.append(np.asarray(image, dtype=np.uint8))
                out.append(np.stack(images))
    except (zipfile.BadZipFile, OSError) as error:
        fix = filestore.fetch_fix("cyclegan")
        raise CorruptFileError(f"{path} is truncated or not a zip ({error}); {fix}") from error
    return out[0], out[1]


def cyclegan_sources(split: str = "train", name: str = "horse2zebra", size: int = 64) -> list[store.Source]:
    """Where the CycleGAN dataset ``name`` can come from (the cache or a download)."""
    first, second = name.split("2")

    def canonical(paths: list[Path]) -> Domains:
        a, b = _read_cyclegan_zip(paths[0], name, split, size)
        info = DatasetInfo(f"CycleGAN {name}", split, len(a) + len(b), CYCLEGAN_DOWNLOADS[name].url,
                           "ImageNet-derived images, for research use (Zhu et al., 2017)",
                           f"{len(a):,} {first} + {len(b):,} {second} images, resized to {size}x{size}.")
        return Domains(a, b, (first, second), info)

    return filestore.canonical_sources("cyclegan", [CYCLEGAN_DOWNLOADS[name]], canonical)


def load_cyclegan_domains(
    split: str = "train", *, name: str = "horse2zebra", size: int = 64, source: str = "auto"
) -> Domains:
    """Two unpaired domains for CycleGAN.

    Canonical: ``horse2zebra`` (or ``apple2orange``), RGB resized to ``size`` x ``size``.
    Offline: Fashion-MNIST sneakers (A) and ankle boots (B), ``uint8`` ``(N, 28, 28)``.
    """
    _check_split(split)
    if name not in CYCLEGAN_SHA256:
        raise DataError(f"unknown CycleGAN dataset {name!r}; choose one of {', '.join(CYCLEGAN_SHA256)}")
    try:
        return store.resolve(name, cyclegan_sources(split, name, size), source=source)
    except Unavailable as missing:
        fashion = _fashion_standing_in(name, split, source, missing)
    first, second = OFFLINE_DOMAINS
    a = fashion.images[fashion.labels == first]
    b = fashion.images[fashion.labels == second]
    names = (fashion.classes[first], fashion.classes[second])
    info = dataclasses.replace(
        fashion.info,
        name=f"Fashion-MNIST {names[0]} vs {names[1]} (standing in for {name})",
        count=len(a) + len(b),
        what=f"{fashion.info.what}, two classes standing in for {name}",
        note=f"{len(a):,} {names[0]} (A) + {len(b):,} {names[1]} (B) images. {fashion.info.note}".strip(),
    )
    return Domains(a, b, names, info)


# ----------------------------------------------------------------------------- transfer learning


@dataclass(frozen=True)
class TransferSplit:
    """A source task to pretrain on and a small target task to transfer to.

    Labels in each :class:`ImageSet` are renumbered 0..4 within its task; ``classes`` name them.
    """

    source_train: ImageSet
    source_test: ImageSet
    target_train: ImageSet
    target_test: ImageSet
    info: DatasetInfo

    def describe(self) -> str:
        return self.info.describe()


def _subset(images: ImageSet, keep: tuple[int, ...], per_class: int | None, seed: int, role: str) -> ImageSet:
    rng = np.random.default_rng(seed)
    chosen = []
    for c in keep:
        index = np.flatnonzero(images.labels == c)
        if per_class is not None:
            if per_class > len(index):
                raise DataError(f"{role}: asked for {per_class} images of class {c}, only {len(index)} here")
            index = np.sort(rng.choice(index, size=per_class, replace=False))
        chosen.append(index)
    order = np.sort(np.concatenate(chosen))
    remap = np.full(len(images.classes), -1, dtype=np.int64)
    remap[list(keep)] = np.arange(len(keep))
    labels = remap[images.labels[order]]
    classes = tuple(images.classes[c] for c in keep)
    info = dataclasses.replace(images.info, name=f"{images.info.name} {role}", count=len(order),
                               note=f"Classes: {', '.join(classes)}. {images.info.note}".strip())
    return ImageSet(images.images[order], labels, classes, info)


def load_transfer_split(*, target_per_class: int = 10, seed: int = 0,
                        source_classes: tuple[int, ...] = TRANSFER_SOURCE_CLASSES,
                        target_classes: tuple[int, ...] = TRANSFER_TARGET_CLASSES,
                        source: str = "auto") -> TransferSplit:
    """Fashion-MNIST split in two tasks: pretrain on five classes, transfer to the other five.

    Source task (default): T-shirt/top, Trouser, Pullover, Sandal, Bag (all their images).
    Target task: Dress, Coat, Shirt, Sneaker, Ankle boot with only ``target_per_class``
    training images each (seeded), tested on all their test images. Both tasks hold tops and
    footwear, so what the source task teaches is of use on the target task. This replaces
    ImageNet-pretrained ResNet-18 weights, which cannot be downloaded offline. Other splits
    can be asked for with ``source_classes`` / ``target_classes`` (Fashion-MNIST label numbers;
    the two must not overlap). ``source`` chooses Fashion-MNIST's sources as in :func:`load_images`.
    """
    source_classes, target_classes = tuple(source_classes), tuple(target_classes)
    if set(source_classes) & set(target_classes):
        raise DataError(f"source and target classes overlap: {sorted(set(source_classes) & set(target_classes))}")
    train = load_images("fashion-mnist", "train", source=source)
    test = load_images("fashion-mnist", "test", source=source)
    split = TransferSplit(
        source_train=_subset(train, source_classes, None, seed, "source task"),
        source_test=_subset(test, source_classes, None, seed, "source task"),
        target_train=_subset(train, target_classes, target_per_class, seed, "target task"),
        target_test=_subset(test, target_classes, None, seed, "target task"),
        info=dataclasses.replace(
            train.info,
            name="Fashion-MNIST transfer split",
            split="train+test",
            count=len(train) + len(test),
            note=f"Source task: {len(source_classes)} classes, all images; target task: {len(target_classes)} "
            f"other classes, {target_per_class} training images each. {train.info.note}".strip(),
        ),
    )
    return split
