"""The source switch (TORCHFLOW_SOURCES), the plan, and the online path (issue 18) on a fake network.

Every test here holds whether or not Debian's dataset-fashion-mnist is installed: a test that
needs the package absent or present says so with the ``no_package`` / ``fake_package`` fixtures.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import shutil
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_data_reliability import FakeNetwork, _tutorial_zip, leftovers  # noqa: I001 (tests/ is on sys.path)

import torchflow.data as data
from torchflow.data import (
    catalog,
    dialogue,
    filestore,
    images,
    pos,
    shakespeare,
    store,
    surnames,
    translation,
    tutorial,
    vision,
)
from torchflow.data.__main__ import main
from torchflow.data.store import CorruptFileError, DataError, Unavailable

SUBSET = store.embedded_dir() / "fashion-mnist-subset"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TORCHFLOW_DATA", str(folder))
    for name in ("TORCHFLOW_OFFLINE", "TORCHFLOW_SOURCES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(filestore, "_UNREACHABLE", set())
    monkeypatch.setattr(urllib.request, "urlopen", FakeNetwork())
    return folder


def _with_package(monkeypatch, directory: Path) -> None:
    spec = images.IMAGE_DATASETS["fashion-mnist"]
    package = (spec.packages[0][0], spec.packages[0][1], directory)
    monkeypatch.setitem(images.IMAGE_DATASETS, "fashion-mnist",
                        dataclasses.replace(spec, packages=(package,), content_sha256={}))


@pytest.fixture
def no_package(tmp_path, monkeypatch) -> None:
    """As on a machine without Debian's dataset-fashion-mnist."""
    _with_package(monkeypatch, tmp_path / "not-installed")


@pytest.fixture
def fake_package(tmp_path, monkeypatch) -> Path:
    """A 'package' holding the embedded subset's files, as if dataset-fashion-mnist were installed."""
    folder = tmp_path / "package"
    shutil.copytree(SUBSET, folder)
    _with_package(monkeypatch, folder)
    return folder


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# ----------------------------------------------------------------------------- the switch


def test_embedded_switch_is_honoured_by_every_loader(cache, monkeypatch, fake_package):
    # even with a full 'package' installed and a canonical file in the cache, embedded means embedded
    (cache / "pytorch-tutorial").mkdir(parents=True)
    (cache / "pytorch-tutorial" / "data.zip").write_bytes(_tutorial_zip())
    monkeypatch.setenv("TORCHFLOW_SOURCES", "embedded")
    loaded = {
        "images": data.load_images("fashion-mnist", "test"),
        "cifar10": data.load_cifar10("test"),
        "cyclegan": data.load_cyclegan_domains("test"),
        "transfer": data.load_transfer_split().target_test,
        "surnames": data.load_surnames(),
        "shakespeare": data.load_shakespeare(),
        "fra-eng": data.load_fra_eng(),
        "dictionary": data.load_fra_eng_dictionary(),
        "dialogue": data.load_dialogue(),
        "pos": data.load_pos("test"),
    }
    for name, found in loaded.items():
        assert found.info.source == "embedded" and found.info.is_subset, name
        assert found.info.reason == "TORCHFLOW_SOURCES=embedded" or name in ("dictionary", "cifar10", "cyclegan")
    assert loaded["cifar10"].info.reason.startswith("CIFAR-10 is not available here (TORCHFLOW_SOURCES=embedded)")
    assert len(loaded["images"]) == 1_000 and "Finnish" in data.load_surnames().languages
    line = loaded["images"].describe()
    assert "the embedded subset (1,000 of 10,000 images)" in line and "chosen because" in line
    assert "standing in for CIFAR-10" in loaded["cifar10"].info.what
    assert not (cache / "pytorch-tutorial" / "data.zip.sha256").exists()  # the cached zip was not even read


def test_package_switch(cache, monkeypatch, fake_package):
    monkeypatch.setenv("TORCHFLOW_SOURCES", "package")
    test = data.load_images("fashion-mnist", "test")
    assert test.info.source == "package" and not test.info.is_subset and str(fake_package) in test.info.origin
    assert test.info.note == ""  # the judge tells the full data by its empty note
    assert data.load_cifar10("test").info.source == "package"
    with pytest.raises(Unavailable, match=r"surnames: no allowed source has it \(TORCHFLOW_SOURCES=package\)"
                       r".*allow download.*or allow embedded"):
        data.load_surnames()


def test_package_switch_without_the_package_names_the_fix(cache, monkeypatch, no_package):
    monkeypatch.setenv("TORCHFLOW_SOURCES", "package")
    with pytest.raises(Unavailable) as caught:
        data.load_images("fashion-mnist", "train")
    message = str(caught.value)
    assert "TORCHFLOW_SOURCES=package" in message and "dataset-fashion-mnist is not installed" in message
    assert "apt-get install dataset-fashion-mnist" in message and "allow embedded" in message
    for loader in (data.load_cifar10, data.load_cyclegan_domains, data.load_transfer_split):
        with pytest.raises(Unavailable, match="apt-get install dataset-fashion-mnist"):
            loader()


def test_default_order_without_network_or_package(cache, no_package):
    train = data.load_images("fashion-mnist", "train")
    assert train.info.source == "embedded" and len(train) == 6_000
    assert "download from fashion-mnist.s3-website" in train.info.reason and "failed" in train.info.reason
    assert train.take(600).info.source == "embedded"  # derived sets keep the record
    assert data.load_fra_eng().sample(10).info.is_subset


def test_download_switch_offline_fails_naming_the_fix(cache, monkeypatch):
    monkeypatch.setenv("TORCHFLOW_SOURCES", "download")
    monkeypatch.setenv("TORCHFLOW_OFFLINE", "1")
    with pytest.raises(Unavailable, match=r"TORCHFLOW_OFFLINE=1.*unset TORCHFLOW_OFFLINE.*allow"):
        data.load_shakespeare()


@pytest.mark.parametrize("value", ["embeded", "download;package", "cache"])
def test_unknown_switch_value_names_the_accepted_ones(cache, monkeypatch, capsys, value):
    monkeypatch.setenv("TORCHFLOW_SOURCES", value)
    with pytest.raises(DataError, match=r"unknown source .* in TORCHFLOW_SOURCES=.*download, package, embedded"):
        data.load_dialogue()
    with pytest.raises(DataError, match="accepted values are download, package, embedded"):
        data.load_images("fashion-mnist", "test")
    assert main(["list"]) == 1 and "accepted values" in capsys.readouterr().err


def test_switch_values_and_order():
    assert store.allowed_sources("embedded,download") == ("download", "embedded")  # the order is fixed
    assert store.allowed_sources(" Package , ") == ("package",)
    assert store.allowed_sources("canonical") == ("download",)
    assert store.allowed_sources("offline") == ("package", "embedded")
    assert store.allowed_sources("") == store.allowed_sources("all") == ("download", "package", "embedded")


def test_a_corrupt_cached_file_is_never_papered_over_by_another_source(cache, monkeypatch):
    target = cache / "tiny-shakespeare" / "input.txt"
    target.parent.mkdir(parents=True)
    target.write_text("not shakespeare")
    with pytest.raises(CorruptFileError, match="fetch --force shakespeare.*TORCHFLOW_SOURCES=embedded"):
        data.load_shakespeare()
    monkeypatch.setenv("TORCHFLOW_SOURCES", "embedded")  # the way out the message names
    assert data.load_shakespeare().info.source == "embedded"
    assert target.read_text() == "not shakespeare"  # kept as it was, for the user to look at


# ----------------------------------------------------------------------------- list and plan


def test_plan_embedded_says_how_to_get_the_full_data(cache, monkeypatch, capsys):
    monkeypatch.setenv("TORCHFLOW_SOURCES", "embedded")
    lines = {line.dataset: line for line in data.plan()}
    pages_data = {name for name, entry in catalog.CATALOG.items() if entry.pages}  # the datasets of the pages
    assert {"fashion-mnist", "mnist", "cifar10", "transfer"} <= pages_data and set(lines) == pages_data
    fashion = lines["fashion-mnist"]
    assert fashion.source == "embedded" and fashion.is_subset and "plot_1_vae" in fashion.pages
    assert "apt-get install dataset-fashion-mnist" in fashion.full_data and "downloads by itself" in fashion.full_data
    assert lines["mnist"].source == "none" and lines["mnist"].optional
    # CIFAR-10 offline: the page trains on the Fashion-MNIST subset, and the plan says so (not "the full data")
    cifar = lines["cifar10"]
    assert cifar.source == "embedded" and cifar.is_subset
    assert "standing in for CIFAR-10" in cifar.where and "6,000 of 60,000" in cifar.where
    assert "the full data" not in cifar.where
    assert main(["plan"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Where the book's data will come from (TORCHFLOW_SOURCES=embedded")
    assert "6,000 of 60,000 images" in out and "NOT AVAILABLE" in out and "pages that use them will fail" not in out
    assert {line.dataset for line in data.plan(everything=True)} == set(catalog.CATALOG)


def test_plan_online_and_with_a_package(cache, fake_package):
    lines = {line.dataset: line for line in data.plan()}
    assert lines["fashion-mnist"].source == "package" and not lines["fashion-mnist"].is_subset
    assert lines["fashion-mnist"].full_data == ""
    cifar = lines["cifar10"]
    assert cifar.source == "download" and cifar.fallback == "package"
    assert cifar.where.startswith("download from www.cs.toronto.edu if reachable, else package: Fashion-MNIST")


def test_list_shows_the_source_here_and_checksums(cache, monkeypatch, capsys, no_package):
    monkeypatch.setenv("TORCHFLOW_SOURCES", "download,embedded")
    monkeypatch.setenv("TORCHFLOW_OFFLINE", "1")
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "sources: TORCHFLOW_SOURCES=download,embedded, TORCHFLOW_OFFLINE=1" in out
    assert "here:      embedded: data/embedded/fashion-mnist-subset" in out
    assert "cornell-movie-dialogs/cornell_movie_dialogs_corpus.zip: pinned sha256" in out
    assert "ud-english-ewt/en_ewt-ud-test.conllu: pinned sha256" in out
    assert "ud-english-ewt/en_ewt-ud-train.conllu: trust on first use (no published checksum" in out
    assert "pytorch-tutorial/data.zip: trust on first use (PyTorch publishes no checksum" in out


# ----------------------------------------------------------------------------- issue 18: the online path


def test_every_download_is_pinned_or_says_why_not_and_uses_https_where_offered():
    for item in catalog.CATALOG.values():
        for download in item.downloads:
            assert download.pinned or download.unpinned, download.path
            if "s3-website" not in download.url:  # S3 website endpoints serve http only
                assert download.url.startswith("https://"), download.url
    urls = [d.url for item in catalog.CATALOG.values() for d in item.downloads]
    assert not any("yann.lecun.com" in u or "people.eecs.berkeley.edu" in u for u in urls)
    assert vision.CYCLEGAN_DOWNLOADS["apple2orange"].url == (
        "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/apple2orange.zip")
    assert dialogue.CORNELL_DOWNLOAD.sha256 == "3bde8a571f615201bc2d2453e22878090719638592f774720eddec739de8c900"
    assert pos.ewt_download("test").sha256 == "1655a2756f3db5386ad0fb08bef94a018827cc1c67ba097f16b9bde93ad2a188"
    assert all(len(images.IMAGE_DATASETS["mnist"].sha256[f]) == 64 for pair in images.SPLIT_FILES.values()
               for f in pair)


def test_pinned_ewt_test_file_rejects_other_bytes(cache, monkeypatch):
    conllu = "1\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_\n\n"
    monkeypatch.setattr(urllib.request, "urlopen", FakeNetwork({pos.UD_EWT.format(split="test"): conllu.encode()}))
    with pytest.raises(DataError, match="wrong sha256 checksum; nothing was kept"):
        data.load_pos("test", source="canonical")
    assert leftovers(cache) == []


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


def test_mnist_files_are_checked_on_load(cache, monkeypatch):
    rng = np.random.default_rng(0)
    files = {}
    for split, count in (("train", 20), ("test", 10)):
        image_file, label_file = images.SPLIT_FILES[split]
        files[image_file] = _idx(rng.integers(0, 256, (count, 28, 28)))
        files[label_file] = _idx(np.arange(count) % 10)
    spec = images.IMAGE_DATASETS["mnist"]
    monkeypatch.setitem(images.IMAGE_DATASETS, "mnist", dataclasses.replace(
        spec, sha256={f: sha256(b) for f, b in files.items()}, md5={}))
    network = FakeNetwork({spec.url + f: b for f, b in files.items()})
    monkeypatch.setattr(urllib.request, "urlopen", network)
    first = data.load_images("mnist", "test")
    assert first.info.source == "download" and len(first) == 10
    again = data.load_images("mnist", "test")
    assert again.info.source == "cache" and len(network.calls) == 2  # no second download
    path = cache / "mnist" / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(_idx(np.zeros(10)))  # a well-formed IDX file, but not the pinned one
    with pytest.raises(CorruptFileError, match=r"t10k-labels-idx1-ubyte\.gz has the wrong checksum"):
        data.load_images("mnist", "test")


def _cornell_zip(macosx_first: bool, conversations: int) -> bytes:
    sep = " +++$+++ "
    lines = "".join(f"L{i}{sep}u0{sep}m0{sep}A{sep}Line number {i}.\n" for i in range(2 * conversations))
    convs = "".join(f"u0{sep}u1{sep}m0{sep}['L{2 * i}', 'L{2 * i + 1}']\n" for i in range(conversations))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if macosx_first:  # macOS resource forks, as in the real Cornell zip
            archive.writestr("__MACOSX/cornell movie-dialogs corpus/._movie_lines.txt", b"\x00\x05\x16\x07" * 20)
            archive.writestr("__MACOSX/cornell movie-dialogs corpus/._movie_conversations.txt", b"\x00" * 80)
        archive.writestr("cornell movie-dialogs corpus/movie_lines.txt", lines.encode("iso-8859-1"))
        archive.writestr("cornell movie-dialogs corpus/movie_conversations.txt", convs)
    return buffer.getvalue()


def test_cornell_zip_with_macosx_members_first_still_yields_its_pairs(cache, monkeypatch):
    body = _cornell_zip(macosx_first=True, conversations=1_200)
    monkeypatch.setattr(dialogue, "CORNELL_DOWNLOAD",
                        dataclasses.replace(dialogue.CORNELL_DOWNLOAD, sha256=sha256(body)))
    monkeypatch.setattr(urllib.request, "urlopen", FakeNetwork({dialogue.CORNELL_ZIP: body}))
    pairs = data.load_dialogue()
    assert pairs.info.name == "Cornell Movie-Dialogs" and pairs.info.source == "download"
    assert len(pairs) == 1_200 and pairs.pairs[0] == ("Line number 0.", "Line number 1.")


def test_cornell_zip_with_implausibly_few_pairs_fails(cache, monkeypatch):
    body = _cornell_zip(macosx_first=False, conversations=5)
    monkeypatch.setattr(dialogue, "CORNELL_DOWNLOAD",
                        dataclasses.replace(dialogue.CORNELL_DOWNLOAD, sha256=sha256(body)))
    monkeypatch.setattr(urllib.request, "urlopen", FakeNetwork({dialogue.CORNELL_ZIP: body}))
    with pytest.raises(CorruptFileError, match=r"yields only 5 dialogue pairs \(at least 1,000 expected"):
        data.load_dialogue()


def test_hand_placed_file_of_a_trust_on_first_use_dataset_is_accepted(cache, monkeypatch):
    # the advice of a failed download ...
    with pytest.raises(DataError) as caught:
        surnames.load_surnames(source="canonical")
    target = cache / "pytorch-tutorial" / "data.zip"
    assert f"put the file at {target} yourself" in str(caught.value) and "checked by format" in str(caught.value)
    # ... taken: the file is accepted and its digest recorded
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_tutorial_zip())
    names = surnames.load_surnames()
    assert names.info.source == "cache" and len(names.languages) == 18
    assert (cache / "pytorch-tutorial" / "data.zip.sha256").read_text().split()[0] == sha256(target.read_bytes())
    assert translation.load_fra_eng().info.source == "cache"
    # a hand-placed file of the wrong format is rejected, not loaded
    (cache / "ud-english-ewt").mkdir()
    (cache / "ud-english-ewt" / "en_ewt-ud-train.conllu").write_text("<html>Not Found</html>\n")
    with pytest.raises(CorruptFileError, match="put in the cache but is rejected.*CoNLL-U has 10"):
        data.load_pos("train")


def test_verify_and_force_fetch_cover_every_cached_file(cache, monkeypatch, capsys):
    new = _tutorial_zip()
    apple = b"PK-not-really-apples"
    monkeypatch.setitem(vision.CYCLEGAN_DOWNLOADS, "apple2orange",
                        dataclasses.replace(vision.CYCLEGAN_DOWNLOADS["apple2orange"], sha256=sha256(apple)))
    entry = catalog.CATALOG["cyclegan"]
    monkeypatch.setitem(catalog.CATALOG, "cyclegan",
                        dataclasses.replace(entry, downloads=tuple(vision.CYCLEGAN_DOWNLOADS.values())))
    (cache / "cyclegan").mkdir(parents=True)
    for name in ("apple2orange.zip", "horse2zebra.zip"):
        (cache / "cyclegan" / name).write_bytes(b"damaged")
    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    assert f"FAILED   cache    {cache / 'cyclegan' / 'apple2orange.zip'}" in out
    assert f"FAILED   cache    {cache / 'cyclegan' / 'horse2zebra.zip'}" in out
    # a forced fetch that cannot download keeps what exists
    assert main(["fetch", "--force", "cyclegan"]) == 1
    assert (cache / "cyclegan" / "apple2orange.zip").read_bytes() == b"damaged"
    # a forced fetch that can download replaces it by a checked copy
    monkeypatch.setattr(filestore, "_UNREACHABLE", set())
    served = {vision.CYCLEGAN_DOWNLOADS["apple2orange"].url: apple, tutorial.PYTORCH_TUTORIAL_ZIP: new,
              vision.CYCLEGAN_DOWNLOADS["horse2zebra"].url: b"not the pinned horses"}
    monkeypatch.setattr(urllib.request, "urlopen", FakeNetwork(served))
    catalog.fetch("surnames")
    with pytest.raises(DataError, match=r"cyclegan: 1 of 2 files failed: cyclegan/horse2zebra\.zip: .*wrong sha256"):
        catalog.fetch("cyclegan", force=True)  # reported, and the other file still fetched
    assert (cache / "cyclegan" / "apple2orange.zip").read_bytes() == apple
    assert (cache / "cyclegan" / "horse2zebra.zip").read_bytes() == b"damaged"
    results = {path.name: error for _, path, error in catalog.verify(progress=False) if "cache" in str(path)}
    assert results["apple2orange.zip"] is None and results["data.zip"] is None
    assert "wrong checksum" in results["horse2zebra.zip"]


def test_download_record_paths_are_unique_per_file():
    paths = [d.path for item in catalog.CATALOG.values() for d in item.downloads]
    assert len(set(paths)) == len({(d.path, d.url) for item in catalog.CATALOG.values() for d in item.downloads})
    assert shakespeare.SHAKESPEARE_DOWNLOAD.path in paths
