"""The package's core: budget switch, devices, frameworks, run stamp, plotting and training helpers."""

import json

import numpy as np
import pytest

import torchflow
from torchflow.budget import BudgetError, get_budget, scaled
from torchflow.device import DeviceError, requested_device, tf_device, torch_device
from torchflow.frameworks import available_frameworks, framework_available, skip_note
from torchflow.plot import grid_image
from torchflow.training import StepClock, batched_mean, fixed_normal, latent_traversal


def test_budget_defaults_to_cpu_and_scales(monkeypatch):
    monkeypatch.delenv("TORCHFLOW_BUDGET", raising=False)
    assert get_budget() == "cpu"
    assert scaled(smoke=1, cpu=2, full=3) == 2
    monkeypatch.setenv("TORCHFLOW_BUDGET", "full")
    assert scaled(smoke=1, cpu=2, full=3) == 3


def test_unknown_budget_names_the_choices(monkeypatch):
    monkeypatch.setenv("TORCHFLOW_BUDGET", "huge")
    with pytest.raises(BudgetError, match=r"unknown budget 'huge'.*smoke, cpu, full"):
        get_budget()
    with pytest.raises(BudgetError):
        torchflow.Run("x")


def test_devices(monkeypatch):
    assert str(torch_device("cpu")) == "cpu"
    assert tf_device("cpu") == "/CPU:0"
    assert str(torch_device("auto")) in {"cpu", "cuda"}
    monkeypatch.setenv("TORCHFLOW_DEVICE", "gpu7")
    with pytest.raises(DeviceError, match="unknown device 'gpu7'.*auto, cpu, cuda"):
        requested_device()
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no CUDA GPU"):
            torch_device("cuda:0")
        with pytest.raises(DeviceError, match="sees 0 GPU"):
            tf_device("cuda:1")


def test_frameworks_can_be_narrowed(monkeypatch):
    assert available_frameworks() == ["torch", "tensorflow"]
    monkeypatch.setenv("TORCHFLOW_FRAMEWORKS", "tf")
    assert available_frameworks() == ["tensorflow"]
    assert "switched off" in skip_note("torch")
    monkeypatch.setenv("TORCHFLOW_FRAMEWORKS", "jax")
    with pytest.raises(ValueError, match="unknown framework 'jax'"):
        framework_available("torch")


def test_run_writes_a_record_with_versions_and_metrics(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCHFLOW_RECORDS", str(tmp_path))
    run = torchflow.Run("demo")
    run.use_data("some data")
    run.record("torch", {"accuracy": 0.9}, seconds_per_step=0.01, device="cpu")
    run.skip("tensorflow")
    record = run.finish()
    printed = capsys.readouterr().out
    assert "'smoke' budget" in printed and "torch 2." in printed and "accuracy = 0.9" in printed
    saved = json.loads((tmp_path / "demo.json").read_text())
    assert saved == json.loads(json.dumps(record))
    assert saved["twins"][0]["metrics"] == {"accuracy": 0.9}
    assert saved["skipped"] == ["tensorflow"] and saved["versions"]["torch"].startswith("2.")


def test_the_stamp_says_how_many_threads_the_example_had(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHFLOW_RECORDS", str(tmp_path))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # as in a parallel docs build on two cores
    assert torchflow.Run("demo").as_dict()["platform"].endswith("cores, 1 thread")


def test_grid_image_tiles_with_padding():
    images = np.zeros((5, 4, 3))
    images[4] = 0.5
    grid = grid_image(images, ncols=2, pad=1)
    assert grid.shape == (3 * 5 + 1, 2 * 4 + 1)
    assert grid[1 + 2 * 5, 1] == 0.5  # the fifth image starts the third row


def test_training_helpers():
    assert batched_mean(lambda a: a.mean(), np.arange(10.0), batch_size=3) == pytest.approx(4.5)
    clock = StepClock()
    for _ in range(3):
        with clock:
            pass
    assert clock.steps == 3 and clock.seconds_per_step is not None
    ticks = iter([0.0, 5.0, 10.0, 12.0, 20.0, 23.0])  # a fake timer: steps of 5, 2 and 3 seconds
    cpu_clock = StepClock(timer=lambda: next(ticks))
    for _ in range(3):
        with cpu_clock:
            pass
    assert (cpu_clock.first_step, cpu_clock.seconds_per_step, cpu_clock.total_seconds) == (5.0, 2.5, 10.0)
    np.testing.assert_array_equal(fixed_normal((2, 3), seed=5), fixed_normal((2, 3), seed=5))
    codes = latent_traversal(np.zeros(4), dims=[1, 3], values=[-1, 1])
    assert codes.shape == (4, 4) and codes[1, 1] == 1 and codes[2, 3] == -1 and codes[2, 1] == 0


def test_seed_everything_makes_both_frameworks_repeat():
    import tensorflow as tf
    import torch

    draws = []
    for _ in range(2):
        torchflow.seed_everything(7)
        draws.append((np.random.rand(), torch.rand(1).item(), float(tf.random.uniform([]))))
    assert draws[0] == draws[1]


def test_importing_torchflow_pins_the_openmp_threads():
    """Without OMP_NUM_THREADS, PyTorch slows down ~50x once TensorFlow has run an op (see torchflow/__init__)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", "import os, torchflow; print(os.environ['OMP_NUM_THREADS'])"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert int(out) == len(os.sched_getaffinity(0))


def _python(code: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


@pytest.mark.skipif(not (framework_available("torch") and framework_available("tensorflow")),
                    reason="needs both frameworks")
def test_tensorflow_first_then_a_pytorch_optimiser_does_not_crash():
    """tensorflow issue #124205: without torchflow's load order, this process dies with SIGSEGV."""
    result = _python("import torchflow, tensorflow as tf, torch\n"
                     "tf.constant(1.0) + 1\n"
                     "torch.optim.Adam([torch.zeros(1, requires_grad=True)]).step()\n"
                     "print('survived')")
    assert result.returncode == 0 and "survived" in result.stdout, result.stderr[-2000:]


@pytest.mark.skipif(not (framework_available("torch") and framework_available("tensorflow")),
                    reason="needs both frameworks")
def test_tensorflow_before_torchflow_is_reported_not_a_crash():
    import importlib.util

    if importlib.util.find_spec("triton") is None:
        pytest.skip("this PyTorch build has no Triton: nothing to crash")
    result = _python("import warnings, tensorflow, torchflow\n"
                     "try:\n    torchflow.available_frameworks()\nexcept RuntimeError as e:\n    print('refused:', e)")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused:" in result.stdout and "import torchflow" in result.stdout
    assert "#124205" in result.stderr  # the warning at import names the upstream issue


def test_batch_indices_cycle_a_small_set_for_the_steps_asked():
    from torchflow.training import batch_indices

    batches = list(batch_indices(10, 4, steps=5, seed=3))
    assert len(batches) == 5 and all(len(b) == 4 for b in batches)
    # two full batches per pass (the last partial one dropped), each pass a new permutation without repeats
    for first, second in ((0, 1), (2, 3)):
        assert len(set(batches[first]) | set(batches[second])) == 8
    assert not np.array_equal(np.concatenate(batches[0:2]), np.concatenate(batches[2:4]))
    assert [b.tolist() for b in batch_indices(10, 4, steps=5, seed=3)] == [b.tolist() for b in batches]
    with pytest.raises(ValueError, match="cannot fill one batch"):
        list(batch_indices(3, 4, steps=1))


def test_run_bookkeeping_targets_and_verdict(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHFLOW_RECORDS", str(tmp_path))
    run = torchflow.Run("bookkeeping", budget="cpu")
    assert run.expect("accuracy", at_least=None) is None  # no target in this budget
    run.expect("accuracy", at_least=0.8)
    run.expect("loss", at_most=2.0)
    with pytest.raises(ValueError):
        run.expect("x", at_least=1, at_most=2)
    run.use_data("some data (train)", "some data (train)")
    assert capsys.readouterr().out.count("some data (train)") == 1
    run.record_all({"torch": {"clock": StepClock(), "device": "cpu"}, "tensorflow": {"device": "cpu"}},
                   lambda r: {"accuracy": 0.9 if r.get("clock") else 0.7, "loss": 1.0})
    verdict = run.verdict()
    assert not verdict.ok
    assert verdict.misses == ["TensorFlow: accuracy = 0.7 (target accuracy ≥ 0.8)"]
    assert "admonition warning" in verdict._repr_html_()
    record = run.finish()
    assert record["misses"] == verdict.misses and record["targets"] == ["accuracy ≥ 0.8", "loss ≤ 2"]
    assert json.loads((tmp_path / "bookkeeping.json").read_text())["misses"] == verdict.misses
    assert "MISSED: TensorFlow" in capsys.readouterr().out


def test_run_trains_prints_the_skip_note(capsys, monkeypatch):
    monkeypatch.setenv("TORCHFLOW_FRAMEWORKS", "torch")
    run = torchflow.Run("skipping")
    assert run.trains("tensorflow") is False
    assert "the TensorFlow twin was skipped" in capsys.readouterr().out
    assert run.skipped == ["tensorflow"]


def test_settings_read_like_a_namespace_and_print_one_field_per_line_within_the_column():
    from torchflow import Settings

    hp = Settings(steps=20, learning_rate=1e-3, snapshots=tuple(range(40)))
    assert hp.steps == 20 and vars(hp)["learning_rate"] == 1e-3
    lines = repr(hp).splitlines()
    assert lines[0] == "steps         = 20" and lines[1] == "learning_rate = 0.001"
    assert len(lines) == 3 and len(lines[2]) == 88 and lines[2].endswith("...")
