"""What a step costs against what the machine can do (torchflow/speed.py): a counting clock counts one
PyTorch step's FLOPs exactly and leaves that slowed step out of ms/step; the peak is a real matmul rate."""

import itertools

import numpy as np
import pytest

from torchflow.training import COUNTED_STEP, StepClock

torch = pytest.importorskip("torch")


def linear_step(x, w):
    (x @ w).sum().backward()


def test_a_counting_clock_counts_the_flops_of_one_step_in_closed_form():
    x, w = torch.randn(64, 100), torch.randn(100, 50, requires_grad=True)
    clock = StepClock(count_flops=True)
    for _ in range(5):
        with clock:
            linear_step(x, w)
    # forward 64x100 @ 100x50: 2*64*100*50; backward, the gradient of w only: the same again
    assert clock.flops_per_step == 2 * (2 * 64 * 100 * 50)
    assert clock.steps == 5


def test_the_counted_step_is_left_out_of_ms_per_step_but_not_of_the_total():
    ticks = itertools.count()
    times = iter([0, 1, 10, 12, 20, 120, 200, 203])  # steps of 1, 2, 100 (the counted one), 3 seconds
    clock = StepClock(count_flops=True, timer=lambda: next(times))
    x, w = torch.randn(2, 3), torch.randn(3, 1, requires_grad=True)
    for _ in range(4):
        next(ticks)
        with clock:
            linear_step(x, w)
    assert COUNTED_STEP == 2
    assert clock.first_step == 1
    assert clock.seconds_per_step == pytest.approx((2 + 3) / 2)
    assert clock.total_seconds == pytest.approx(1 + 2 + 100 + 3)


def test_a_clock_that_does_not_count_records_no_flops():
    clock = StepClock(count_flops=False)
    for _ in range(4):
        with clock:
            linear_step(torch.randn(2, 3), torch.randn(3, 1, requires_grad=True))
    assert clock.flops_per_step is None and clock.seconds_per_step is not None


def test_a_default_clock_keeps_a_count_only_where_pytorch_ran():
    counted, idle = StepClock(), StepClock()
    for _ in range(4):
        with counted:
            linear_step(torch.randn(2, 3), torch.randn(3, 1, requires_grad=True))
        with idle:  # a TensorFlow step, as far as PyTorch can tell
            sum(range(100))
    assert counted.flops_per_step == 2 * (2 * 2 * 3 * 1) and idle.flops_per_step is None


def test_a_recurrent_kernel_the_counter_cannot_count_is_named():
    lstm, x = torch.nn.LSTM(8, 16, batch_first=True), torch.randn(4, 5, 8)
    clock = StepClock()
    for _ in range(4):
        with clock:
            lstm(x)[0].sum().backward()
    if torch.backends.mkldnn.is_available():  # the CPU's fused oneDNN kernel: no FLOP formula
        assert clock.flops_per_step == 0 and any("rnn" in name for name in clock.flops_uncounted)


def test_a_record_takes_the_clock_whole():
    from torchflow import Run

    clock = StepClock(count_flops=True)
    for _ in range(4):
        with clock:
            linear_step(torch.randn(2, 3), torch.randn(3, 1, requires_grad=True))
    twin = Run("speed-test").record("torch", {"m": 1.0}, clock=clock)
    assert (twin.seconds_per_step, twin.train_seconds, twin.flops_per_step) == (
        clock.seconds_per_step, clock.total_seconds, 2 * (2 * 2 * 3 * 1))


def test_only_the_pytorch_twins_clock_counts(monkeypatch):
    from torchflow import Run
    from torchflow.frameworks import available_frameworks

    run = Run("speed-test")
    for framework in available_frameworks():
        assert run.twin(framework).clock.count_flops == (framework == "torch")


@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
def test_the_peak_is_a_measured_matmul_rate(framework):
    pytest.importorskip(framework)
    from torchflow import speed

    speed._PEAKS.pop(framework, None)
    peak = speed.peak_flops(framework)
    assert 1e8 < peak < 1e14  # between a slow laptop core and a datacentre GPU
    assert speed.peak_flops(framework) == peak  # measured once per process
    assert np.isfinite(peak)


def test_the_speed_table_row_in_closed_form():
    """tools/book_table.py --speed: ratio, the 10 % verdict and each twin's share of its framework's peak."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("book_table", Path(__file__).parents[1] / "tools" / "book_table.py")
    book_table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(book_table)
    record = {"page": "plot_x", "peak_flops": {"torch": 1e11, "tensorflow": 2e11},
              "twins": [{"framework": "torch", "seconds_per_step": 0.002, "mode": None, "flops_per_step": 2e7},
                        {"framework": "tensorflow", "seconds_per_step": 0.0021, "mode": "XLA"}]}
    # 2e7 FLOP in 2 ms = 1e10 FLOP/s: 10 % of PyTorch's peak; in 2.1 ms, 4.76 % of TensorFlow's
    assert book_table.speed_row(record) == ("| plot_x | 2.00 (eager) | 2.10 (XLA) | 1.05 | yes | 0.02 "
                                            "| 10.0 % / 4.8 % |")
    record["twins"][1]["seconds_per_step"] = 0.0023
    assert "| 1.15 | no |" in book_table.speed_row(record)
    record["twins"][0]["flops_uncounted"] = ["aten.mkldnn_rnn_layer.default"]  # a lower bound, said so
    assert book_table.speed_row(record).endswith("| ≥ 0.02 | ≥ 10.0 % / ≥ 4.3 % |")
