"""The order in which a page's training loop sees its items: one rule, whichever loop reads them.

Pass number ``epoch`` over ``count`` items visits them in the order of one NumPy permutation,
``np.random.default_rng((seed, epoch)).permutation(count)``. The index batches both twins share
(:func:`torchflow.training.batch_indices`) and the framework loaders over the same arrays
(:func:`torchflow.prep.wrappers.torch_loader`, :func:`~torchflow.prep.wrappers.tf_dataset`) all
follow it, so a page that switches from one to the other keeps its batches.

The seed and the pass number are two words of the generator's seed, not a sum: with
``seed + epoch``, seed 1's first pass would be seed 0's second.
"""

from __future__ import annotations

import numpy as np


def epoch_order(count: int, *, seed: int, epoch: int, shuffle: bool = True) -> np.ndarray:
    """The item order (int64 indices) of pass ``epoch``; ``shuffle=False`` keeps the items' order."""
    if count < 0 or epoch < 0:
        raise ValueError(f"count and epoch must be >= 0, got {count} and {epoch}")
    if not shuffle:
        return np.arange(count)
    return np.random.default_rng((seed, epoch)).permutation(count)
