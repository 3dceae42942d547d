"""One parser for every TORCHFLOW_* switch: the same rules for case, spaces, empty values and yes/no."""

from __future__ import annotations

import subprocess
import sys

import pytest

from torchflow import config
from torchflow.budget import BudgetError, get_budget
from torchflow.data import store
from torchflow.device import DeviceError, requested_device
from torchflow.frameworks import requested


@pytest.mark.parametrize("value", ["1", "true", "YES", " on ", "True"])
def test_offline_accepts_exactly_the_documented_yes_spellings(monkeypatch, value):
    monkeypatch.setenv("TORCHFLOW_OFFLINE", value)
    assert store.offline() is True


@pytest.mark.parametrize("value", ["0", "false", "No", "off", "", "  "])
def test_offline_no_and_empty_mean_online(monkeypatch, value):
    monkeypatch.setenv("TORCHFLOW_OFFLINE", value)
    assert store.offline() is False


@pytest.mark.parametrize("value", ["y", "2", "enabled", "offline"])
def test_an_unknown_yes_no_value_is_an_error_not_a_silent_no(monkeypatch, value):
    monkeypatch.setenv("TORCHFLOW_OFFLINE", value)
    with pytest.raises(config.ConfigError, match="TORCHFLOW_OFFLINE=.*not a yes/no value.*1, true, yes, on"):
        store.offline()


def test_empty_means_the_default_for_every_switch(monkeypatch):
    for name in ("TORCHFLOW_BUDGET", "TORCHFLOW_DEVICE", "TORCHFLOW_FRAMEWORKS", "TORCHFLOW_NETWORK_TIMEOUT",
                 "TORCHFLOW_OFFLINE", "TORCHFLOW_SOURCES"):
        monkeypatch.setenv(name, " ")
    assert get_budget() == "cpu" and requested_device() == "auto" and requested() == ("torch", "tensorflow")
    assert store.network_timeout() == 10.0 and store.offline() is False
    assert store.allowed_sources() == tuple(store.SOURCE_CHOICES)
    config.check()


def test_case_and_spaces_do_not_matter_anywhere(monkeypatch):
    monkeypatch.setenv("TORCHFLOW_BUDGET", " Smoke ")
    monkeypatch.setenv("TORCHFLOW_DEVICE", "CPU")
    monkeypatch.setenv("TORCHFLOW_FRAMEWORKS", " TF , ")
    monkeypatch.setenv("TORCHFLOW_SOURCES", "Embedded")
    assert get_budget() == "smoke" and requested_device() == "cpu" and requested() == ("tensorflow",)
    assert store.allowed_sources() == ("embedded",)


def test_jobs_auto_is_case_insensitive_like_every_other_switch(monkeypatch):
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))
    from jobs import gallery_jobs

    assert gallery_jobs({"TORCHFLOW_JOBS": "AUTO"}, cores=2) == 2 == gallery_jobs({"TORCHFLOW_JOBS": " auto"}, cores=2)


@pytest.mark.parametrize(("name", "value", "error", "words"), [
    ("TORCHFLOW_FRAMEWORKS", ",", config.ConfigError, "names nothing"),
    ("TORCHFLOW_FRAMEWORKS", "jax", config.ConfigError, "unknown framework 'jax'"),
    ("TORCHFLOW_NETWORK_TIMEOUT", "soon", config.ConfigError, "not a number"),
    ("TORCHFLOW_NETWORK_TIMEOUT", "-1", config.ConfigError, "at least"),
    ("TORCHFLOW_NETWORK_TIMEOUT", "nan", config.ConfigError, "at least"),
    ("TORCHFLOW_DEVICE", "gpu7", DeviceError, "unknown device 'gpu7'"),
    ("TORCHFLOW_BUDGET", "huge", BudgetError, "unknown budget 'huge'"),
    ("TORCHFLOW_SOURCES", ",", store.DataError, "names no source"),
])
def test_check_rejects_every_bad_value_before_anything_trains(monkeypatch, name, value, error, words):
    monkeypatch.setenv(name, value)
    with pytest.raises(error, match=words):
        config.check()
    import torchflow

    with pytest.raises(error, match=words):
        torchflow.Run("x")  # a page fails in its first line


def test_a_bad_network_timeout_no_longer_breaks_importing_the_data_package():
    env = {"TORCHFLOW_NETWORK_TIMEOUT": "", "PATH": "/usr/bin:/bin"}
    import os

    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    for value in ("", "soon"):
        env["TORCHFLOW_NETWORK_TIMEOUT"] = value
        done = subprocess.run([sys.executable, "-c", "import torchflow.data"], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr


def test_the_tensorflow_first_guard_holds_whatever_torchflow_frameworks_says():
    """TensorFlow imported first, then a PyTorch twin asked for with TORCHFLOW_FRAMEWORKS=torch: a clear error
    (before this, the guard was skipped when TensorFlow was switched off, and the process died with SIGSEGV)."""
    import importlib.util
    import os

    if importlib.util.find_spec("triton") is None:
        pytest.skip("this PyTorch build has no Triton: the crash it guards against cannot happen here")
    code = ("import tensorflow\nimport torchflow\n"
            "try:\n    torchflow.framework_available('torch')\nexcept RuntimeError as e:\n    print('GUARD', e)\n")
    env = {**os.environ, "TORCHFLOW_FRAMEWORKS": "torch", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "GUARD TensorFlow was imported before torchflow" in done.stdout, done.stderr[-2000:]
