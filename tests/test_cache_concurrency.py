"""The cache under concurrency and faults: processes sharing one cache, damaged archives and judges,
caches that cannot be written, verify on damaged inputs (benchmarks/reliability.md lists each case)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from torchflow.data import filestore, images, store, surnames, tutorial
from torchflow.data.catalog import verify
from torchflow.data.store import CorruptFileError, DataError

ROOT = Path(__file__).resolve().parents[1]


def tutorial_zip(stored: bool = False) -> bytes:
    """A format-true stand-in of PyTorch's tutorial data.zip (18 languages, eng-fra.txt)."""
    import io

    languages = ["Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish", "Italian",
                 "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish", "Vietnamese"]
    buffer = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for i, language in enumerate(languages):
            archive.writestr(f"data/names/{language}.txt", "".join(f"{language}name{j}\n" for j in range(50 + i)))
        archive.writestr("data/eng-fra.txt", "".join(f"Go {i}.\tVa {i} !\n" for i in range(1200)))
    return buffer.getvalue()


# A child process: a slow fake network serving one file, then the real loader. Prints what it got.
CHILD = textwrap.dedent("""
    import io, json, os, sys, time, urllib.error, urllib.request
    from pathlib import Path
    body = Path(sys.argv[1]).read_bytes()
    url, barrier = sys.argv[2], Path(sys.argv[3])

    class Slow(io.BytesIO):
        headers = {"Content-Length": str(len(body))}
        def read(self, size=-1):
            time.sleep(0.01)  # 1 kB every 10 ms: the writers overlap for a second or more
            return super().read(1024)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return False

    def urlopen(address, timeout=None):
        if address != url:
            raise urllib.error.URLError("no network")
        return Slow(body)

    urllib.request.urlopen = urlopen
    from torchflow.data import surnames
    (barrier / f"ready-{os.getpid()}").touch()  # imports done: start together
    while not (barrier / "go").exists():
        time.sleep(0.005)
    names = surnames.load_surnames()
    print(json.dumps({"source": names.info.source, "count": len(names), "subset": names.info.is_subset}))
""")


def run_children(count: int, body: bytes, cache: Path, tmp_path: Path) -> list[dict]:
    served = tmp_path / "served.zip"
    served.write_bytes(body)
    env = {**os.environ, "TORCHFLOW_DATA": str(cache), "PYTHONPATH": str(ROOT), "TORCHFLOW_SOURCES": ""}
    env.pop("TORCHFLOW_OFFLINE", None)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(served), tutorial.PYTORCH_TUTORIAL_ZIP,
                                  str(barrier)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(count)]
    deadline = time.monotonic() + 240
    while len(list(barrier.glob("ready-*"))) < count and time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            break  # one died before the start: its error is reported below
        time.sleep(0.05)
    (barrier / "go").touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


# CI's embedded leg sets 20: the race must be lost in none of 20 trials, not only in one.
REPEATS = int(os.environ.get("TORCHFLOW_CONCURRENCY_REPEATS") or 1)


@pytest.mark.parametrize("trial", range(REPEATS))
@pytest.mark.parametrize("count", [2, 4])
def test_processes_preparing_one_dataset_into_one_empty_cache_all_get_the_full_data(tmp_path, count, trial,
                                                                                    monkeypatch):
    """Before the lock: a fixed ``.partial`` name shared by all writers, truncated and deleted under each other;
    a silent fallback to the embedded subset; a trust-on-first-use digest recorded for the wrong bytes."""
    body, cache = tutorial_zip(), tmp_path / "cache"
    results = run_children(count, body, cache, tmp_path)
    assert all(r["source"] in ("download", "cache") and not r["subset"] for r in results), results
    assert len({r["count"] for r in results}) == 1
    target = cache / "pytorch-tutorial" / "data.zip"
    assert target.read_bytes() == body
    assert filestore.sidecar(target).read_text().split()[0] == hashlib.sha256(body).hexdigest()
    assert not list(target.parent.glob("*.partial"))
    monkeypatch.setenv("TORCHFLOW_DATA", str(cache))
    failed = [(str(path), error) for kind, path, error in verify(progress=False) if kind == "cache" and error]
    assert failed == []


def test_a_zip_with_a_damaged_member_is_not_trusted_on_first_use(tmp_path, monkeypatch):
    """One flipped byte in a member: before, the archive was accepted, its digest recorded, and every later
    load raised a raw BadZipFile while verify said ok."""
    monkeypatch.setenv("TORCHFLOW_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCHFLOW_OFFLINE", "1")
    monkeypatch.delenv("TORCHFLOW_SOURCES", raising=False)
    body = bytearray(tutorial_zip(stored=True))
    at = body.index(b"Go 600.")
    body[at] ^= 0x01  # inside eng-fra.txt's data: the central directory is intact, the CRC is not
    target = tutorial.TUTORIAL_DOWNLOAD.target
    target.parent.mkdir(parents=True)
    target.write_bytes(bytes(body))
    with pytest.raises(CorruptFileError, match="fails its CRC check"):
        surnames.load_surnames(source="download")
    assert not filestore.sidecar(target).exists()  # nothing recorded: the next load checks it again


def test_a_damaged_zip_from_the_network_keeps_nothing(tmp_path, monkeypatch):
    import urllib.request

    from tests.test_data_reliability import FakeNetwork

    monkeypatch.setenv("TORCHFLOW_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("TORCHFLOW_OFFLINE", raising=False)
    monkeypatch.delenv("TORCHFLOW_SOURCES", raising=False)  # about the canonical path, on either test leg
    monkeypatch.setattr(filestore, "_UNREACHABLE", set())
    body = bytearray(tutorial_zip(stored=True))
    body[body.index(b"Go 600.")] ^= 0x01
    monkeypatch.setattr(urllib.request, "urlopen", FakeNetwork({tutorial.PYTORCH_TUTORIAL_ZIP: bytes(body)}))
    names = surnames.load_surnames()  # falls back, and says why
    assert names.info.source == "embedded" and "downloaded but was rejected" in names.info.reason
    folder = tutorial.TUTORIAL_DOWNLOAD.target.parent
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock")) == []


def test_a_cache_path_that_is_a_file_falls_back_to_the_embedded_data_and_names_the_fix(tmp_path, monkeypatch):
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("oops")
    monkeypatch.setenv("TORCHFLOW_DATA", str(not_a_folder))
    monkeypatch.setenv("TORCHFLOW_OFFLINE", "1")
    monkeypatch.delenv("TORCHFLOW_SOURCES", raising=False)  # the cache must be tried to be passed over
    names = surnames.load_surnames()
    assert names.info.source == "embedded" and "cannot be used" in names.info.reason
    with pytest.raises(DataError, match="set TORCHFLOW_DATA to a writable folder"):
        store.data_dir()


def test_a_cache_that_cannot_be_written_is_a_data_error_naming_the_fix(tmp_path, monkeypatch):
    """Root ignores file modes, so the read-only mount is simulated where the write happens."""
    monkeypatch.setenv("TORCHFLOW_DATA", str(tmp_path / "cache"))

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(filestore.tempfile, "mkstemp", read_only)
    with pytest.raises(DataError, match="cannot write to the data cache .*Read-only file system.*TORCHFLOW_DATA"):
        filestore.copy_verified(ROOT / "README.md", store.data_dir() / "x" / "README.md")


def test_atomic_writers_of_one_entry_never_see_each_others_files(tmp_path):
    """Eight threads writing one entry through atomic_path: each rename is whole, no temporary file is shared
    or left, and a stale one from a writer that died is cleared."""
    target = tmp_path / "entry.bin"
    stale = tmp_path / ".entry.bin.partial"
    stale.write_bytes(b"left by a killed writer")
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            with filestore.atomic_path(target) as tmp:
                tmp.write_bytes(bytes([i]) * 100_000)
        except BaseException as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    data = target.read_bytes()
    assert len(data) == 100_000 and len(set(data)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".entry.bin.lock", "entry.bin"]


def test_the_embedded_fashion_subset_is_checked_against_its_manifest(tmp_path, monkeypatch):
    """Before, permuted labels or zeroed images in the subset loaded silently and verify reported nothing."""
    import gzip
    import shutil

    copy = tmp_path / "embedded"
    shutil.copytree(store.embedded_dir(), copy)
    monkeypatch.setattr(store, "embedded_dir", lambda: copy)
    monkeypatch.setenv("TORCHFLOW_DATA", str(tmp_path / "cache"))
    assert len(images.load_images("fashion-mnist", "test", source="embedded")) == 1000
    labels = copy / "fashion-mnist-subset" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[8], raw[9] = raw[9], raw[8] if raw[8] != raw[9] else (raw[8] + 1) % 10
    labels.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(CorruptFileError, match="wrong checksum"):
        images.load_images("fashion-mnist", "test", source="embedded")
    failed = [path.name for kind, path, error in verify(progress=False) if error]
    assert failed == ["t10k-labels-idx1-ubyte.gz"]


def test_verify_reports_damage_to_its_own_inputs_instead_of_dying(tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "embedded"
    shutil.copytree(store.embedded_dir(), copy)
    monkeypatch.setattr(store, "embedded_dir", lambda: copy)
    cache = tmp_path / "cache"
    monkeypatch.setenv("TORCHFLOW_DATA", str(cache))
    (copy / "surnames" / "manifest.json").write_text("{not json")
    (copy / "shakespeare" / "manifest.json").write_bytes(b"\xff\xfe\x00garbage")
    target = tutorial.TUTORIAL_DOWNLOAD.target
    target.parent.mkdir(parents=True)
    target.write_bytes(tutorial_zip())
    filestore.sidecar(target).mkdir()  # a sidecar that is a folder
    failed = {f"{path.parent.name}/{path.name}": error for kind, path, error in verify(progress=False) if error}
    assert sorted(failed) == ["pytorch-tutorial/data.zip", "shakespeare/manifest.json", "surnames/manifest.json"]
    assert "is not valid JSON" in failed["surnames/manifest.json"]
    assert "is not valid JSON" in failed["shakespeare/manifest.json"]
    assert "unreadable" in failed["pytorch-tutorial/data.zip"]


def test_concurrent_finish_of_one_page_never_fails(tmp_path, monkeypatch):
    import torchflow

    monkeypatch.setenv("TORCHFLOW_RECORDS", str(tmp_path / "records"))
    errors: list[BaseException] = []

    def finish() -> None:
        try:
            run = torchflow.Run("same-page")
            run.record("torch", {"accuracy": 0.5})
            run.finish()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=finish) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert json.loads((tmp_path / "records" / "same-page.json").read_text())["twins"]
    assert [p.name for p in (tmp_path / "records").iterdir()] == ["same-page.json"]


# ----------------------------------------------------------------------------- the judge's cache


@pytest.fixture
def judge_cache(tmp_path, monkeypatch):
    """An empty cache, the embedded data, and a 'training' that takes no time and is counted."""
    pytest.importorskip("torch")
    from torchflow import judge as judge_module
    from torchflow.pt.judge import JudgeNet

    monkeypatch.setenv("TORCHFLOW_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCHFLOW_SOURCES", "embedded")
    trained: list[int] = []
    import torch

    torch.manual_seed(0)
    weights = {k: v.numpy().copy() for k, v in JudgeNet().state_dict().items()}

    def fake_train(cls, train, test, steps=None):
        trained.append(1)
        judge = cls(weights, 0.0, "a stand-in judge", "torch")
        judge.test_accuracy = float((judge.predict(test.images[:500]) == test.labels[:500]).mean())
        return judge

    monkeypatch.setattr(judge_module.Judge, "train", classmethod(fake_train))
    return judge_module, trained, judge_module.cache_path("fashion-mnist", True, judge_module.recipe_steps())


def damage(path: Path, how: str) -> None:
    if how == "zero bytes":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "garbled":
        path.write_bytes(os.urandom(path.stat().st_size))
    else:
        with np.load(path) as archive:
            contents = {k: archive[k] for k in archive.files}
        meta = json.loads(str(contents["_meta"]))
        if how == "NaN weights":
            contents["fc2.weight"] = np.full_like(contents["fc2.weight"], np.nan)
            meta.pop("sha256")  # an older judge, written before checksums: the finiteness check must catch it
        elif how == "other weights":
            contents["fc2.weight"] = contents["fc2.weight"][::-1].copy()
        elif how == "wrong shapes":
            contents["fc2.weight"] = contents["fc2.weight"][:5]
            meta.pop("sha256")
        elif how == "inflated accuracy":
            meta["test_accuracy"] = 0.9
            meta.pop("sha256")
            contents["fc2.weight"] = np.zeros_like(contents["fc2.weight"])
            contents["fc2.bias"] = np.zeros_like(contents["fc2.bias"])
        contents["_meta"] = np.array(json.dumps(meta))
        with open(path, "wb") as handle:
            np.savez(handle, **contents)


@pytest.mark.parametrize("how", ["zero bytes", "truncated", "garbled", "NaN weights", "other weights",
                                 "wrong shapes", "inflated accuracy"])
def test_a_damaged_judge_is_retrained_with_a_message_never_used(judge_cache, how, capsys):
    judge_module, trained, path = judge_cache
    first = judge_module.Judge.load("fashion-mnist")
    assert trained == [1] and path.is_file()
    assert judge_module.Judge.load("fashion-mnist").test_accuracy == first.test_accuracy and trained == [1]
    damage(path, how)
    capsys.readouterr()
    again = judge_module.Judge.load("fashion-mnist")
    assert trained == [1, 1], "a damaged judge was used"
    assert "The cached judge is not used" in capsys.readouterr().out
    assert np.array_equal(again.weights["fc2.weight"], first.weights["fc2.weight"])
