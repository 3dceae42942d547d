"""Plumbing shared by the examples: what a reader would skip, so the training step stays in view."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np


def batched_mean(function: Callable[..., float], *arrays: np.ndarray | None, batch_size: int = 500) -> float:
    """The item-weighted mean of ``function(*batch)`` over ``arrays`` cut into batches (``None`` passes through)."""
    count = len(next(a for a in arrays if a is not None))
    total = 0.0
    for start in range(0, count, batch_size):
        batch = [None if a is None else a[start : start + batch_size] for a in arrays]
        size = min(batch_size, count - start)
        total += float(function(*batch)) * size
    return total / count


@dataclass
class StepClock:
    """Counts training steps and their wall time; ``seconds_per_step`` skips the first (tracing) step."""

    steps: int = 0
    seconds: float = 0.0
    first_step: float | None = None
    _started: float = field(default=0.0, repr=False)

    def __enter__(self) -> StepClock:
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        elapsed = time.perf_counter() - self._started
        if self.first_step is None:
            self.first_step = elapsed
        else:
            self.seconds += elapsed
        self.steps += 1

    @property
    def seconds_per_step(self) -> float | None:
        return self.seconds / (self.steps - 1) if self.steps > 1 else None

    @property
    def total_seconds(self) -> float:
        return self.seconds + (self.first_step or 0.0)


def batch_indices(count: int, batch_size: int, steps: int, seed: int = 0) -> Iterator[np.ndarray]:
    """The item indices of ``steps`` training batches over ``count`` items, the same for both twins.

    Each pass over the data is a fresh permutation (seeded by ``seed`` and the pass
    number); a last partial batch is dropped, and the passes repeat until ``steps``
    batches are given. Budgets count optimiser steps, not epochs, so a page trains
    as long on a small embedded subset as on the full data: the subset is cycled.
    """
    if batch_size < 1 or steps < 0:
        raise ValueError(f"batch_size must be >= 1 and steps >= 0, got {batch_size} and {steps}")
    if count < batch_size:
        raise ValueError(f"{count} items cannot fill one batch of {batch_size}")
    per_pass = count // batch_size
    given = 0
    for epoch in range(-(-steps // per_pass)):
        order = np.random.default_rng((seed, epoch)).permutation(count)
        for start in range(0, per_pass * batch_size, batch_size):
            if given == steps:
                return
            given += 1
            yield order[start : start + batch_size]


def fixed_normal(shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """Standard-normal noise that both twins share (float32)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def latent_traversal(base: np.ndarray, dims: Sequence[int], values: Sequence[float]) -> np.ndarray:
    """Codes that move one latent dimension at a time: (len(dims) * len(values), latent_dim)."""
    codes = np.repeat(base[None].astype(np.float32), len(dims) * len(values), axis=0)
    for row, dim in enumerate(dims):
        codes[row * len(values) : (row + 1) * len(values), dim] = values
    return codes


def fixed_uniform(shape: Sequence[int], seed: int = 0, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """Uniform noise on [low, high) that both twins share (float32): a GAN's z ~ U(-1, 1)."""
    if not low < high:
        raise ValueError(f"need low < high, got {low} and {high}")
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)
