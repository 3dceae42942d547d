"""The documented behaviour of torchflow.data when things go wrong.

- a truncated, wrong-checksum or wrong-format file (embedded or cached) raises CorruptFileError
  naming the file and the fix; it is never loaded and never silently replaced by other data;
- a missing embedded file raises DataError naming it;
- a download writes to a temporary name and renames only when complete and verified;
- no network: `source="auto"` falls back at once to the offline data (and says so), a host that
  failed is not tried again in the same run, `source="canonical"` raises;
- TORCHFLOW_OFFLINE=1: nothing touches the network; no offline source means a fast DataError.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from torchflow.data import dialogue, filestore, images, pos, shakespeare, store, surnames, translation, tutorial, vision
from torchflow.data.__main__ import main
from torchflow.data.store import CorruptFileError, DataError


class FakeNetwork:
    """Stands in for urllib.request.urlopen: serves ``files`` by URL, else fails like no network."""

    def __init__(self, files: dict[str, bytes] | None = None, cut_after: int | None = None):
        self.files, self.cut_after, self.calls = files or {}, cut_after, []

    def __call__(self, url, timeout=None):
        self.calls.append((url, timeout))
        if url not in self.files:
            raise urllib.error.URLError("[Errno -2] Name or service not known")
        body, cut_after = self.files[url], self.cut_after

        class Response(io.BytesIO):
            headers = {"Content-Length": str(len(body))}

            def read(self, size=-1):
                if cut_after is not None and self.tell() >= cut_after:
                    raise ConnectionResetError("connection reset in the middle of the download")
                return super().read(size if cut_after is None else min(size, cut_after - self.tell() or 1))

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

        return Response(body)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TORCHFLOW_DATA", str(folder))
    monkeypatch.delenv("TORCHFLOW_OFFLINE", raising=False)
    monkeypatch.delenv("TORCHFLOW_SOURCES", raising=False)  # these tests are about the canonical path
    monkeypatch.setattr(filestore, "_UNREACHABLE", set())
    monkeypatch.setattr(urllib.request, "urlopen", FakeNetwork())
    return folder


@pytest.fixture
def embedded(tmp_path, monkeypatch) -> Path:
    """A private copy of the embedded data, free to damage."""
    copy = tmp_path / "embedded"
    shutil.copytree(store.embedded_dir(), copy)
    monkeypatch.setattr(store, "embedded_dir", lambda: copy)
    return copy


def leftovers(folder: Path) -> list[str]:
    """Files left in ``folder``, less the entries' lock files (empty, hidden, never read as data)."""
    found = (p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".lock")) if folder.exists() else ()
    return sorted(p.name for p in found)


# ----------------------------------------------------------------------------- embedded files


def test_truncated_embedded_file_is_reported_with_its_name_and_fix(cache, embedded):
    path = embedded / "surnames" / "surnames.tsv.gz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(
        CorruptFileError, match=r"surnames\.tsv\.gz is truncated.*git checkout data/embedded/surnames"
    ):
        surnames.load_surnames()


def test_embedded_file_with_wrong_checksum_is_reported(cache, embedded):
    path = embedded / "shakespeare" / "shakespeare.txt.gz"
    body = gzip.decompress(path.read_bytes()).replace(b"To be, or not to be", b"To be, or not to bee")
    path.write_bytes(gzip.compress(body))
    with pytest.raises(CorruptFileError, match=r"shakespeare\.txt\.gz does not match the checksum"):
        shakespeare.load_shakespeare()


def test_missing_embedded_file_is_reported(cache, embedded):
    (embedded / "dialogue" / "chatterbot-english.tsv.gz").unlink()
    with pytest.raises(DataError, match=r"missing embedded file .*chatterbot-english\.tsv\.gz"):
        dialogue.load_dialogue()


def test_verify_names_the_damaged_file(cache, embedded, capsys):
    path = embedded / "fra-eng" / "numbers.tsv.gz"
    path.write_bytes(path.read_bytes()[:-100])
    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    assert f"FAILED   embedded {path}" in out and " 1 failed" in out


def test_truncated_idx_and_wrong_magic_are_reported(tmp_path):
    good = store.embedded_dir() / "fashion-mnist-subset" / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(good.read_bytes())
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(raw[:-10]))
    with pytest.raises(
        CorruptFileError, match=r"short\.gz holds 990 bytes of data but its header says 1,000"
    ):
        images.read_idx(short)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(good.read_bytes()[:-20])
    with pytest.raises(CorruptFileError, match=r"cut\.gz is truncated or not gzip"):
        images.read_idx(cut)
    wrong = tmp_path / "wrong.gz"
    wrong.write_bytes(gzip.compress(b"\x00\x00\x09\x01" + raw[4:]))
    with pytest.raises(CorruptFileError, match="bad magic number"):
        images.read_idx(wrong)
    with pytest.raises(DataError, match="missing data file"):
        images.read_idx(tmp_path / "absent.gz")


# ----------------------------------------------------------------------------- cached downloads


def test_truncated_cached_download_is_reported_not_replaced(cache):
    target = cache / "tiny-shakespeare" / "input.txt"
    target.parent.mkdir(parents=True)
    target.write_text("First Citizen:\nBefore we proceed any further, hear me speak.\n")
    for source in ("auto", "canonical"):
        with pytest.raises(CorruptFileError, match=r"input\.txt has the wrong checksum.*fetch --force shakespeare"):
            shakespeare.load_shakespeare(source=source)
    assert shakespeare.load_shakespeare(source="offline").info.name.startswith("Shakespeare")  # the way out


def test_wrong_format_cached_archive_is_reported(cache):
    target = cache / "cifar10" / "cifar-10-binary.tar.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"<html>Not Found</html>")
    with pytest.raises(CorruptFileError, match=r"cifar-10-binary\.tar\.gz has the wrong checksum"):
        vision.load_cifar10("test")
    # the right bytes but the wrong format still fail cleanly, in the parser
    with pytest.raises(CorruptFileError, match="truncated or not a tar.gz"):
        vision._read_cifar_tar(target, "test")


def _tutorial_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i, language in enumerate(
            [
                "Arabic",
                "Chinese",
                "Czech",
                "Dutch",
                "English",
                "French",
                "German",
                "Greek",
                "Irish",
                "Italian",
                "Japanese",
                "Korean",
                "Polish",
                "Portuguese",
                "Russian",
                "Scottish",
                "Spanish",
                "Vietnamese",
            ]
        ):
            archive.writestr(f"data/names/{language}.txt", f"{language}name\nOther{i}\n")
        archive.writestr("data/eng-fra.txt", "".join(f"Go {i}.\tVa {i} !\n" for i in range(1200)))
    return buffer.getvalue()


def test_download_without_published_checksum_records_one_and_checks_it_later(cache, monkeypatch):
    body = _tutorial_zip()
    network = FakeNetwork({tutorial.PYTORCH_TUTORIAL_ZIP: body})
    monkeypatch.setattr(urllib.request, "urlopen", network)
    names = surnames.load_surnames()
    assert len(names.languages) == 18 and "Scottish" in names.languages and len(names) == 36
    assert names.info.origin.startswith(tutorial.PYTORCH_TUTORIAL_ZIP)
    target = cache / "pytorch-tutorial" / "data.zip"
    sidecar = target.with_name("data.zip.sha256")
    assert sidecar.read_text().split()[0] == hashlib.sha256(body).hexdigest()
    assert network.calls[0][1] == store.network_timeout() <= 30  # a short timeout, never a hang
    pairs = translation.load_fra_eng()  # the same cached zip, no second download
    assert len(network.calls) == 1 and pairs.pairs[0] == ("Va 0 !", "Go 0.")
    target.write_bytes(body[:-50])  # damaged afterwards
    with pytest.raises(CorruptFileError, match=r"data\.zip has the wrong checksum"):
        surnames.load_surnames()


def test_download_with_wrong_checksum_keeps_nothing(cache, monkeypatch):
    url = "https://example.invalid/file.bin"
    monkeypatch.setattr(urllib.request, "urlopen", FakeNetwork({url: b"x" * 1000}))
    target = cache / "thing" / "file.bin"
    with pytest.raises(DataError, match="wrong sha256 checksum; nothing was kept"):
        filestore.download(url, target, sha256="0" * 64)
    assert leftovers(cache) == []


def test_interrupted_download_leaves_nothing_that_looks_valid(cache, monkeypatch):
    url = shakespeare.TINY_SHAKESPEARE
    monkeypatch.setattr(urllib.request, "urlopen", FakeNetwork({url: b"a" * 5000}, cut_after=2000))
    with pytest.raises(DataError, match="connection reset"):
        shakespeare.load_shakespeare(source="canonical")
    assert leftovers(cache) == []


def test_rejected_format_keeps_nothing(cache, monkeypatch):
    monkeypatch.setattr(
        urllib.request, "urlopen", FakeNetwork({tutorial.PYTORCH_TUTORIAL_ZIP: b"<html>moved</html>"})
    )
    with pytest.raises(DataError, match="(?s)rejected.*not a zip archive"):
        surnames.load_surnames(source="canonical")
    assert leftovers(cache) == []


# ----------------------------------------------------------------------------- no network


def test_no_network_falls_back_to_offline_fast_and_says_so(cache, monkeypatch):
    network = FakeNetwork()
    monkeypatch.setattr(urllib.request, "urlopen", network)
    start = time.perf_counter()
    corpus = shakespeare.load_shakespeare()
    cifar = vision.load_cifar10("test")
    again = shakespeare.load_shakespeare()
    assert time.perf_counter() - start < 10
    assert "shipped with TorchFlow" in corpus.info.origin and again.text == corpus.text
    assert "standing in for CIFAR-10" in cifar.info.name
    hosts = [url.split("/")[2] for url, _ in network.calls]
    assert len(hosts) == len(set(hosts))  # a host that failed is not tried again in this run
    with pytest.raises(DataError, match="could not download .*Offline\\?.*put the file at"):
        dialogue.load_dialogue(source="canonical")
    with pytest.raises(DataError, match="could not download|unreachable earlier"):
        vision.load_cifar10("test", source="canonical")


def test_offline_switch_never_touches_the_network(cache, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the network was used although TORCHFLOW_OFFLINE=1")

    monkeypatch.setenv("TORCHFLOW_OFFLINE", "1")
    monkeypatch.setattr(urllib.request, "urlopen", forbidden)
    assert len(surnames.load_surnames()) > 11_000
    assert "Fashion-MNIST" in vision.load_cyclegan_domains("test").info.name
    with pytest.raises(DataError, match=r"TORCHFLOW_OFFLINE=1 forbids the download.*unset TORCHFLOW_OFFLINE"):
        pos.load_pos("train", source="canonical")
    start = time.perf_counter()
    with pytest.raises(store.Unavailable, match="mnist: no allowed source has it.*unset TORCHFLOW_OFFLINE"):
        images.load_images("mnist", "test")
    assert time.perf_counter() - start < 2
    assert main(["fetch", "shakespeare"]) == 1


# ----------------------------------------------------------------------------- canonical parsers


def test_canonical_conllu_parser(cache, monkeypatch):
    conllu = (
        "# sent_id = 1\n# text = I saw it.\n"
        "1\tI\tI\tPRON\tPRP\t_\t2\tnsubj\t_\t_\n2\tsaw\tsee\tVERB\tVBD\t_\t0\troot\t_\t_\n"
        "3\tit\tit\tPRON\tPRP\t_\t2\tobj\t_\tSpaceAfter=No\n4\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_\n\n"
    )
    url = pos.UD_EWT.format(split="train")  # the test file's checksum is pinned, the train file's is not
    monkeypatch.setattr(urllib.request, "urlopen", FakeNetwork({url: conllu.encode()}))
    tagged = pos.load_pos("train")
    assert tagged.words == [["I", "saw", "it", "."]] and tagged.tags == [["PRON", "VERB", "PRON", "PUNCT"]]
    assert tagged.info.name == "UD English-EWT r2.13"
    bad = cache / "ud-english-ewt" / "en_ewt-ud-train.conllu"
    bad.write_text(conllu.replace("\tVERB\t", " VERB\t"))
    filestore.record_digest(bad, filestore.file_digest(bad))  # right checksum, wrong format
    with pytest.raises(CorruptFileError, match="CoNLL-U has 10 .wrong format"):
        pos.load_pos("train")



def test_manifests_describe_every_embedded_file():
    for manifest_path in store.embedded_dir().glob("*/manifest.json"):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        assert manifest["source"] and manifest["licence"] and manifest["rebuild"]
        for filename, meta in manifest["files"].items():
            assert (manifest_path.parent / filename).is_file()
            assert len(meta["sha256"]) == 64 and meta["count"] > 0
