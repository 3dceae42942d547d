"""The path a reader with internet takes: every canonical download, served in its canonical format by
a fake network (``tests/canonical.py``), parsed by the real loaders, and every page run on it.

The fixtures are real data the project ships, written in each download's exact layout; which data
stands in for which is named in ``tests/canonical.py``. The loaders are called with
``source="canonical"`` (and the pages with ``TORCHFLOW_SOURCES=canonical``), so nothing embedded or
packaged can answer in the download's place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests import canonical, pages
from torchflow.data import filestore, store

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 600


@pytest.fixture(scope="module")
def fixtures() -> dict[str, canonical.Fixture]:
    return {name: build() for name, build in canonical.FIXTURES.items()}


@pytest.fixture
def online(tmp_path, monkeypatch, fixtures):
    """An empty cache, a network that serves every fixture, downloads allowed."""
    monkeypatch.setenv(store.DATA_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(store.OFFLINE_ENV, raising=False)
    monkeypatch.setenv(store.SOURCES_ENV, "canonical")
    monkeypatch.setattr(filestore, "_UNREACHABLE", set())
    served = {url: body for fixture in fixtures.values() for url, body in fixture.files.items()}
    undo = canonical.serve(served)
    yield fixtures
    undo()


def downloaded(info, first: bool = True) -> None:
    """Downloaded by this load (``first``), or read back from the copy a download left in the cache."""
    assert info.source == ("download" if first else "cache"), info.describe()
    assert not info.is_subset, info.describe()


@pytest.mark.parametrize("name", ["fashion-mnist", "mnist"])
def test_idx_files_download_and_parse(online, name):
    from torchflow.data import load_images

    for split, (images, labels) in online[name].expected.items():
        loaded = load_images(name, split, source="canonical")
        downloaded(loaded.info)  # each split has files of its own
        np.testing.assert_array_equal(loaded.images, images)
        np.testing.assert_array_equal(loaded.labels, labels)


def test_cifar10_binary_tar_downloads_and_parses(online):
    from torchflow.data.vision import CIFAR10_CLASSES, load_cifar10

    for split, (images, labels) in online["cifar10"].expected.items():
        loaded = load_cifar10(split, source="canonical")
        downloaded(loaded.info, first=split == "train")  # one archive holds both splits
        assert loaded.info.name == "CIFAR-10" and loaded.classes == CIFAR10_CLASSES
        assert loaded.images.shape == (len(labels), 32, 32, 3) and loaded.images.dtype == np.uint8
        np.testing.assert_array_equal(loaded.images, images)  # channel-major records read back channels-last
        np.testing.assert_array_equal(loaded.labels, labels)


def test_cyclegan_zip_downloads_and_parses(online):
    from torchflow.data.vision import load_cyclegan_domains

    for split in ("train", "test"):
        loaded = load_cyclegan_domains(split, size=28, source="canonical")
        downloaded(loaded.info, first=split == "train")
        assert loaded.names == ("horse", "zebra")
        for domain, images in zip("AB", (loaded.a, loaded.b), strict=True):
            source = online["cyclegan"].expected[split, domain]
            assert images.shape == (*source.shape, 3)
            # JPEG at 256x256 and back to 28x28: close to the source images, not equal
            assert np.abs(images.mean(axis=-1) - source.astype(float)).mean() < 12


def test_tutorial_zip_gives_the_surnames_and_the_pairs(online):
    from torchflow.data.surnames import load_surnames
    from torchflow.data.translation import load_fra_eng

    names = load_surnames(source="canonical")
    downloaded(names.info)
    assert len(names.languages) == 18
    rows = sorted((names.languages[label], name) for name, label in zip(names.names, names.labels, strict=True))
    assert rows == online["tutorial-zip"].expected["surnames"]
    pairs = load_fra_eng(source="canonical")  # the same zip, from the cache now
    downloaded(pairs.info, first=False)
    assert pairs.info.name == "Tatoeba French-English"
    assert pairs.pairs == online["tutorial-zip"].expected["fra-eng"]


def test_tiny_shakespeare_downloads_and_parses(online):
    from torchflow.data.shakespeare import load_shakespeare

    corpus = load_shakespeare(source="canonical")
    downloaded(corpus.info)
    assert corpus.text == online["shakespeare"].expected


def test_cornell_zip_downloads_and_parses(online):
    from torchflow.data.dialogue import load_dialogue

    pairs = load_dialogue(source="canonical")
    downloaded(pairs.info)
    assert pairs.pairs == online["dialogue"].expected  # the __MACOSX resource fork is not read


def test_ud_ewt_conllu_downloads_and_parses(online):
    from torchflow.data.pos import load_pos_splits

    train, test = load_pos_splits(source="canonical")
    for split, tagged in (("train", train), ("test", test)):
        downloaded(tagged.info)  # each split is a file of its own
        assert tagged.info.name == "UD English-EWT r2.13"
        assert list(zip(tagged.words, tagged.tags, strict=True)) == online["pos"].expected[split]


def test_a_served_byte_changed_fails_the_pinned_digest(online, monkeypatch):
    """The fake network's pins are real checks: one other byte and nothing is kept."""
    import urllib.request

    from torchflow.data.shakespeare import SHAKESPEARE_DOWNLOAD, load_shakespeare

    served = urllib.request.urlopen

    def urlopen(url, timeout=None):  # the pinned file, with its first byte changed on the way
        response = served(url, timeout)
        first = response.read(1)
        response.seek(0)
        response.write(bytes([first[0] ^ 1]))
        response.seek(0)
        return response

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    with pytest.raises(store.DataError, match="wrong sha256 checksum; nothing was kept"):
        load_shakespeare(source="canonical")
    assert not SHAKESPEARE_DOWNLOAD.target.exists()


# ----------------------------------------------------------------------------- every page, online

# The canonical dataset(s) each page must have trained on (the start of each dataset's recorded name).
PAGES = {
    "cnn/plot_1_classifier": ["CIFAR-10 ("],
    "cnn/plot_2_spatial_transformer": ["MNIST ("],
    "cnn/plot_3_transfer_learning": ["Fashion-MNIST source task", "Fashion-MNIST target task"],
    "embeddings/plot_1_ngram_cbow_skipgram": ["tiny-shakespeare"],
    "embeddings/plot_2_negative_sampling": ["tiny-shakespeare"],
    "embeddings/plot_3_pos_tagger": ["UD English-EWT"],
    "rnn/plot_1_classify_surnames": ["Surnames by language (PyTorch tutorial)"],
    "rnn/plot_2_generate_surnames": ["Surnames by language (PyTorch tutorial)"],
    "rnn/plot_3_row_lstm": ["Fashion-MNIST ("],
    "rnn/plot_4_char_rnn": ["tiny-shakespeare"],
    "seq2seq/plot_1_translation": ["Tatoeba French-English"],
    "seq2seq/plot_2_chatbot": ["Cornell Movie-Dialogs"],
    "vae/plot_1_vae": ["Fashion-MNIST ("],
    "vae/plot_2_cvae": ["Fashion-MNIST ("],
    "gan/plot_1_gan": ["Fashion-MNIST ("],
    "gan/plot_2_cgan": ["Fashion-MNIST ("],
    "gan/plot_3_infogan": ["Fashion-MNIST ("],
    "gan/plot_4_dcgan": ["Fashion-MNIST ("],
    "gan/plot_5_began": ["Fashion-MNIST ("],
    "gan/plot_6_cyclegan": ["Fashion-MNIST ("],
}


def test_every_page_is_run_online():
    assert sorted(PAGES) == sorted(str(p.relative_to(ROOT / "examples").with_suffix(""))
                                   for p in ROOT.glob("examples/*/plot_*.py"))


def reader_online(folder: Path) -> pages.Setting:
    """The fixtures served, one empty cache for every page as a reader's machine has (the first page
    to need a file downloads it), only the canonical downloads allowed."""
    canonical.write_all(folder / "served")
    return pages.Setting("online", env=((store.DATA_ENV, str(folder / "reader-cache")),
                                        (store.SOURCES_ENV, "canonical"), (store.OFFLINE_ENV, None)),
                         served=str(folder / "served"))


@pytest.mark.examples
@pages.page_run(reader_online, "page")
@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_runs_online_on_its_canonical_data(page, page_lane, request):
    _, record = page_lane.result(request.node.nodeid).check()
    for name in PAGES[page]:
        assert any(d.startswith(name) for d in record["data"]), (name, record["data"])
    for description in record["data"]:
        assert "standing in" not in description and "embedded" not in description.lower(), description
    assert not record.get("subset"), record["data"]
    # the targets it holds itself to there: stated, and met in the smoke budget
    assert record["targets"], f"{page}: no smoke target"
    assert record["misses"] == [], f"{page} missed smoke targets online:\n" + "\n".join(record["misses"])
