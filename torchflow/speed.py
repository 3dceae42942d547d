"""How far a training step is from what the machine can do: its FLOPs, and the machine's peak.

* :func:`flop_counter`: a context that counts the floating-point operations of the PyTorch ops run
  inside it (``torch.utils.flop_counter.FlopCounterMode``: matrix products and convolutions, forward
  and backward; element-wise ops are not counted). A twin's :class:`~torchflow.training.StepClock`
  counts one PyTorch step this way (its third; that step's time is left out of ms/step). The
  TensorFlow twin runs the same model on the same batch, so the count stands for both.
* :func:`peak_flops`: a float32 matrix product of 2048 x 2048 in each framework, with the threads
  this process runs on, measured once per process: what a dense step could reach here.

A step's FLOPs over its measured time, as a share of that peak, says what bounds it: near the peak,
arithmetic; far below it (under 5 %), per-op overhead, memory traffic or Python
(``tools/speed_table.py`` writes the book's table).
"""

from __future__ import annotations

import sys
import time
from typing import Any

SIZE, REPEATS = 2048, 5
_PEAKS: dict[str, float] = {}


def flop_counter() -> Any | None:
    """A ``FlopCounterMode`` (not entered), or ``None`` where PyTorch is not loaded."""
    if sys.modules.get("torch") is None:
        return None
    from torch.utils.flop_counter import FlopCounterMode

    return FlopCounterMode(display=False)


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
