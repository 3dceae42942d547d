"""How far a training step is from what the machine can do: its FLOPs, and the machine's peak.

* :func:`flop_counter`: a context that counts the floating-point operations of the PyTorch ops run
  inside it (``torch.utils.flop_counter.FlopCounterMode``: matrix products and convolutions, forward
  and backward; element-wise ops are not counted) and names the recurrent kernels it has no formula
  for (``nn.LSTM`` / ``nn.GRU`` on the CPU run as one fused oneDNN op: a count without them is a lower
  bound). A :class:`~torchflow.training.StepClock` counts one step this way (its third; that step's
  time is left out of ms/step); a TensorFlow step runs no PyTorch op and keeps no count. The
  TensorFlow twin runs the same model on the same batch, so the PyTorch count stands for both.
* :func:`peak_flops`: a float32 matrix product of 2048 x 2048 in each framework, with the threads
  this process runs on, measured once per process: what a dense step could reach here.

A step's FLOPs over its measured time, as a share of that peak, says what bounds it: near the peak,
arithmetic; far below it (under 5 %), per-op overhead, memory traffic or Python
(``tools/speed_table.py`` writes the book's table).
"""

from __future__ import annotations

import re
import sys
import time

SIZE, REPEATS = 2048, 5
_PEAKS: dict[str, float] = {}


RECURRENT = re.compile(r"rnn|lstm|gru", re.IGNORECASE)  # fused kernels FlopCounterMode does not count


class StepCounter:
    """The FLOPs of the PyTorch ops run inside it, and the recurrent kernels among them left uncounted."""

    def __init__(self) -> None:
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils.flop_counter import FlopCounterMode

        seen: set[str] = set()

        class _Seen(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                seen.add(str(func))
                return func(*args, **(kwargs or {}))

        self._flops, self._seen, self.seen = FlopCounterMode(display=False), _Seen(), seen

    def __enter__(self) -> StepCounter:
        self._flops.__enter__()
        self._seen.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._seen.__exit__(*exc)
        self._flops.__exit__(*exc)

    @property
    def flops(self) -> float:
        return float(self._flops.get_total_flops())

    @property
    def uncounted(self) -> list[str]:
        return sorted(name for name in self.seen if RECURRENT.search(name))


def flop_counter() -> StepCounter | None:
    """A :class:`StepCounter` (not entered), or ``None`` where PyTorch is not loaded."""
    if sys.modules.get("torch") is None:
        return None
    return StepCounter()


def _best_seconds(run) -> float:
    run()  # warm up: kernels chosen, memory allocated
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def peak_flops(framework: str) -> float | None:
    """FLOP/s of a float32 ``SIZE`` x ``SIZE`` matrix product in ``framework`` on the CPU, best of
    :data:`REPEATS` (cached per process); ``None`` where the framework is not loaded."""
    if framework in _PEAKS:
        return _PEAKS[framework]
    if sys.modules.get(framework) is None:
        return None
    import numpy as np

    a = np.random.default_rng(0).standard_normal((SIZE, SIZE)).astype(np.float32)
    if framework == "torch":
        import torch

        x = torch.from_numpy(a)
        seconds = _best_seconds(lambda: torch.mm(x, x))
    else:
        import tensorflow as tf

        with tf.device("/CPU:0"):
            x = tf.constant(a)
            seconds = _best_seconds(lambda: tf.linalg.matmul(x, x).numpy())
    _PEAKS[framework] = 2 * SIZE**3 / seconds
    return _PEAKS[framework]
