"""Format-true copies of every canonical download, and a fake network that serves them.

A reader with internet never uses the embedded data: the loaders download CIFAR-10's binary
tar.gz, the Fashion-MNIST and MNIST IDX files, PyTorch's tutorial ``data.zip``, tiny-shakespeare,
the Cornell zip, UD English-EWT's CoNLL-U files and the CycleGAN zips, and parse them. None of
these can be downloaded here, so this module writes each one in exactly its canonical layout
(file names, members, encodings, record formats) from real data the project ships: the
embedded subsets, never random noise. Where the project has no data of that kind the stand-in
is named in ``FIXTURES`` (Fashion-MNIST images under CIFAR-10's, MNIST's and horse2zebra's
names, Turkish sentences under EWT's).

``serve(files)`` then replaces ``urllib.request.urlopen`` with one that serves those files by
URL (any other address fails as without a network) and lets each file's published checksum be
that of its fixture, so the downloads are still checked against a pinned digest. Used in
process by ``tests/test_online_path.py`` and, for whole pages, in the page lane's online worker (``tests/pages.py``).
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import struct
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Fixture:
    """The canonical files of one dataset (``url -> bytes``) and what the real loader must read from them."""

    files: dict[str, bytes]
    expected: Any  # compared by the test with what the loader returns
    made_from: str


def _embedded(loader: Callable, *args, **kwargs):
    return loader(*args, source="embedded", **kwargs)


# ----------------------------------------------------------------------------- images


def idx_gz(array: np.ndarray) -> bytes:
    """An IDX file (LeCun's format: big-endian magic, dimensions, then the bytes), gzipped."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.tobytes(), mtime=0)


def _fashion() -> dict[str, Any]:
    from torchflow.data import load_images

    return {split: _embedded(load_images, "fashion-mnist", split) for split in ("train", "test")}


def idx_fixture(name: str) -> Fixture:
    """The four IDX .gz files of ``name`` (Fashion-MNIST's embedded subset, under MNIST's names too)."""
    from torchflow.data.images import IMAGE_DATASETS, SPLIT_FILES

    fashion, files = _fashion(), {}
    for split, (images_file, labels_file) in SPLIT_FILES.items():
        files[IMAGE_DATASETS[name].url + images_file] = idx_gz(fashion[split].images)
        files[IMAGE_DATASETS[name].url + labels_file] = idx_gz(fashion[split].labels)
    expected = {split: (fashion[split].images, fashion[split].labels) for split in SPLIT_FILES}
    return Fixture(files, expected, "the embedded Fashion-MNIST subset")


def cifar10_fixture() -> Fixture:
    """``cifar-10-binary.tar.gz``: ``cifar-10-batches-bin/data_batch_{1..5}.bin`` and ``test_batch.bin``
    (records of one label byte then 3,072 pixel bytes, channel-major), ``batches.meta.txt``, ``readme.html``."""
    from torchflow.data.vision import CIFAR10_CLASSES, CIFAR10_URL, fashion_as_rgb32

    fashion = _fashion()
    buffer = io.BytesIO()

    def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    expected = {}
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        add(tar, "batches.meta.txt", ("\n".join(CIFAR10_CLASSES) + "\n\n").encode())
        add(tar, "readme.html", b'<meta HTTP-EQUIV="REFRESH" content="0; url=http://www.cs.toronto.edu/~kriz/cifar.html">')
        for split, names in (("train", [f"data_batch_{i}.bin" for i in range(1, 6)]), ("test", ["test_batch.bin"])):
            images, labels = fashion_as_rgb32(fashion[split].images), fashion[split].labels
            expected[split] = (images, labels)
            for name, part in zip(names, np.array_split(np.arange(len(labels)), len(names)), strict=True):
                records = np.concatenate([labels[part, None].astype(np.uint8),
                                          images[part].transpose(0, 3, 1, 2).reshape(len(part), -1)], axis=1)
                add(tar, name, records.tobytes())
    return Fixture({CIFAR10_URL: buffer.getvalue()}, expected,
                   "the embedded Fashion-MNIST subset, padded to 32x32x3 (no CIFAR-10 image ships offline)")


def cyclegan_fixture(name: str = "horse2zebra", per_domain: int = 40, size: int = 256) -> Fixture:
    """``<name>.zip``: ``<name>/{trainA,trainB,testA,testB}/*.jpg``, RGB JPEGs of ``size`` x ``size``
    (Fashion-MNIST sneakers as A and ankle boots as B, scaled up: no horse2zebra image ships offline)."""
    from PIL import Image

    from torchflow.data.vision import CYCLEGAN_DOWNLOADS, OFFLINE_DOMAINS

    fashion, buffer, expected = _fashion(), io.BytesIO(), {}
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{name}/", b"")
        for split in ("train", "test"):
            for domain, label in zip("AB", OFFLINE_DOMAINS, strict=True):
                images = fashion[split].images[fashion[split].labels == label][:per_domain]
                expected[split, domain] = images
                for i, image in enumerate(images):
                    out = io.BytesIO()
                    Image.fromarray(image).convert("RGB").resize((size, size), Image.BICUBIC).save(out, "JPEG",
                                                                                                  quality=95)
                    archive.writestr(f"{name}/{split}{domain}/n0{label}_{i:05d}.jpg", out.getvalue())
    return Fixture({CYCLEGAN_DOWNLOADS[name].url: buffer.getvalue()}, expected,
                   "Fashion-MNIST Sneaker (A) and Ankle boot (B) from the embedded subset, as 256x256 JPEGs")


# ----------------------------------------------------------------------------- text


def tutorial_fixture() -> Fixture:
    """PyTorch's tutorial ``data.zip``: ``data/names/<Language>.txt`` (one UTF-8 surname a line) from the
    embedded surnames, and ``data/eng-fra.txt`` (``English<TAB>French`` a line) from the embedded number phrases."""
    from torchflow.data.surnames import load_surnames
    from torchflow.data.translation import load_fra_eng
    from torchflow.data.tutorial import PYTORCH_TUTORIAL_ZIP

    names, pairs = _embedded(load_surnames), _embedded(load_fra_eng)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for language, members in names.by_language().items():
            archive.writestr(f"data/names/{language}.txt", "".join(f"{n}\n" for n in members))
        archive.writestr("data/eng-fra.txt", "".join(f"{en}\t{fr}\n" for fr, en in pairs.pairs))
    rows = sorted((names.languages[label], name) for name, label in zip(names.names, names.labels, strict=True))
    return Fixture({PYTORCH_TUTORIAL_ZIP: buffer.getvalue()}, {"surnames": rows, "fra-eng": pairs.pairs},
                   "the embedded surnames (Finnish in place of Scottish) and number phrases (not Tatoeba's sentences)")


def shakespeare_fixture() -> Fixture:
    """tiny-shakespeare's ``input.txt``: ASCII text (the embedded nine plays, with the few non-ASCII
    characters of their modern spelling replaced as the tutorial's ``unicodeToAscii`` does)."""
    from torchflow.data.shakespeare import TINY_SHAKESPEARE, load_shakespeare
    from torchflow.data.surnames import to_ascii

    text = to_ascii(_embedded(load_shakespeare).text).encode("ascii", "replace").decode("ascii")
    return Fixture({TINY_SHAKESPEARE: text.encode("ascii")}, text, "the embedded nine plays")


def cornell_fixture() -> Fixture:
    """``cornell_movie_dialogs_corpus.zip``: ``cornell movie-dialogs corpus/movie_lines.txt`` (``L<n> +++$+++
    u<n> +++$+++ m0 +++$+++ NAME +++$+++ text``) and ``movie_conversations.txt`` (``u0 +++$+++ u1 +++$+++ m0
    +++$+++ ['L1', 'L2']``), ISO-8859-1, with the ``__MACOSX`` resource forks the real zip carries; one
    conversation of two turns for each embedded ChatterBot pair."""
    from torchflow.data.dialogue import CORNELL_ZIP, load_dialogue

    sep, lines, conversations, expected = " +++$+++ ", [], [], []
    for i, turns in enumerate(_embedded(load_dialogue).pairs):
        turns = [t.encode("iso-8859-1", "replace").decode("iso-8859-1") for t in turns]
        ids = [f"L{2 * i + 1}", f"L{2 * i + 2}"]
        lines += [sep.join([ids[k], f"u{k}", "m0", f"SPEAKER{k}", turns[k]]) for k in (1, 0)]  # newest first
        conversations.append(sep.join(["u0", "u1", "m0", str(ids)]))
        expected.append(tuple(" ".join(t.split()) for t in turns))
    folder, buffer = "cornell movie-dialogs corpus", io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{folder}/movie_lines.txt", ("\n".join(lines) + "\n").encode("iso-8859-1"))
        archive.writestr(f"{folder}/movie_conversations.txt", ("\n".join(conversations) + "\n").encode("iso-8859-1"))
        archive.writestr(f"__MACOSX/{folder}/._movie_lines.txt", b"\x00\x05\x16\x07 resource fork")
        archive.writestr(f"{folder}/README.txt", b"Cornell Movie-Dialogs Corpus (format-true fixture)\n")
    return Fixture({CORNELL_ZIP: buffer.getvalue()}, expected, "the embedded ChatterBot pairs")


def conllu(sentences: list[tuple[list[str], list[str]]], prefix: str) -> str:
    """CoNLL-U: ``# sent_id`` and ``# text`` comments, then ten tab-separated columns per word."""
    blocks = []
    for n, (words, tags) in enumerate(sentences, start=1):
        rows = [f"# sent_id = {prefix}-{n:04d}", f"# text = {' '.join(words)}"]
        rows += ["\t".join([str(i), w, w.lower(), t, "_", "_", str(0 if i == 1 else 1), "root" if i == 1 else "dep",
                            "_", "_"]) for i, (w, t) in enumerate(zip(words, tags, strict=True), start=1)]
        blocks.append("\n".join(rows) + "\n")
    return "\n".join(blocks) + "\n"


def ewt_fixture() -> Fixture:
    """``en_ewt-ud-{train,test}.conllu`` (UTF-8 CoNLL-U) from the embedded Turkish treebank's splits, pieces
    joined into words (no English treebank ships offline)."""
    from torchflow.data.pos import UD_EWT, load_pos

    files, expected = {}, {}
    for split in ("train", "test"):
        tagged = _embedded(load_pos, split, join_pieces=True)
        sentences = list(zip(tagged.words, tagged.tags, strict=True))
        files[UD_EWT.format(split=split)] = conllu(sentences, f"{split}").encode("utf-8")
        expected[split] = sentences
    return Fixture(files, expected, "the embedded Turkish Web Treebank, pieces joined")


# ----------------------------------------------------------------------------- all of them, served

FIXTURES: dict[str, Callable[[], Fixture]] = {
    "fashion-mnist": lambda: idx_fixture("fashion-mnist"),
    "mnist": lambda: idx_fixture("mnist"),
    "cifar10": cifar10_fixture,
    "cyclegan": cyclegan_fixture,
    "tutorial-zip": tutorial_fixture,  # surnames and fra-eng
    "shakespeare": shakespeare_fixture,
    "dialogue": cornell_fixture,
    "pos": ewt_fixture,
}


def write_all(folder: Path) -> dict[str, Fixture]:
    """Every fixture's files under ``folder``, with ``urls.json`` mapping each URL to its file."""
    folder.mkdir(parents=True, exist_ok=True)
    built, urls = {}, {}
    for name, build in FIXTURES.items():
        built[name] = build()
        for k, (url, body) in enumerate(built[name].files.items()):
            path = folder / f"{name}-{k}-{Path(url).name}"
            path.write_bytes(body)
            urls[url] = path.name
    (folder / "urls.json").write_text(json.dumps(urls, indent=1))
    return built


def serve(files: dict[str, bytes]) -> Callable[[], None]:
    """Serve ``files`` (URL -> bytes) as the network; return a function that undoes it.

    Each served file's published digests are replaced by the fixture's sha256 for the duration,
    so every download is still checked against a pinned digest (and one other byte fails it)."""
    import hashlib

    from torchflow.data import filestore

    digests = {url: hashlib.sha256(body).hexdigest() for url, body in files.items()}

    class Response(io.BytesIO):
        def __init__(self, body: bytes):
            super().__init__(body)
            self.headers = {"Content-Length": str(len(body))}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.close()
            return False

    def urlopen(url, timeout=None):
        url = getattr(url, "full_url", url)
        if url not in files:
            raise urllib.error.URLError("[Errno -2] Name or service not known")
        return Response(files[url])

    def pinned(method):
        def call(self, *args, **kwargs):
            if self.url in digests:
                self = dataclasses.replace(self, sha256=digests[self.url], md5=None, content_sha256=None)
            return method(self, *args, **kwargs)
        return call

    saved = urllib.request.urlopen, filestore.Download.fetch, filestore.Download.check
    urllib.request.urlopen = urlopen
    filestore.Download.fetch, filestore.Download.check = pinned(saved[1]), pinned(saved[2])

    def undo() -> None:
        urllib.request.urlopen, filestore.Download.fetch, filestore.Download.check = saved

    return undo


def serve_folder(folder: Path) -> Callable[[], None]:
    """:func:`serve` the files :func:`write_all` wrote under ``folder``."""
    urls = json.loads((folder / "urls.json").read_text())
    return serve({url: (folder / name).read_bytes() for url, name in urls.items()})
