"""Plumbing shared by the examples: what a reader would skip, so the training step stays in view."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from torchflow.prep.order import epoch_order


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
    """Counts training steps and their wall time; ``seconds_per_step`` skips the first (tracing) step.

    ``timer=time.process_time`` counts this process's CPU time instead: the number to compare
    when other jobs share the cores (waiting for a core is not counted). The clock counts the FLOPs
    of the third step (:func:`torchflow.speed.flop_counter`) into ``flops_per_step``, with the
    recurrent kernels it could not count in ``flops_uncounted``; that step's time, slowed by the
    counting, is left out of ``seconds_per_step`` too. ``count_flops``: ``None`` keeps a count only
    where the step ran PyTorch ops it counts or names (a TensorFlow step runs none; its third step
    is then timed as any other), ``False`` never counts (a TensorFlow twin's clock from
    :meth:`torchflow.Run.twin`), ``True`` keeps any count.
    """

    steps: int = 0
    seconds: float = 0.0
    first_step: float | None = None
    count_flops: bool | None = None
    flops_per_step: float | None = None
    flops_uncounted: list[str] = field(default_factory=list)
    _started: float = field(default=0.0, repr=False)
    _counted: int = field(default=0, repr=False)  # 1 once the counted step has run: it is not in ``seconds``
    _left_out: float = field(default=0.0, repr=False)  # the counted step's time
    _counter: Any = field(default=None, repr=False)
    timer: Callable[[], float] = field(default=time.perf_counter, repr=False)

    def __enter__(self) -> StepClock:
        if self.count_flops is not False and self.steps == COUNTED_STEP and not self._counted:
            from torchflow.speed import flop_counter

            self._counter = flop_counter()
            if self._counter is not None:
                self._counter.__enter__()
        self._started = self.timer()
        return self

    def __exit__(self, *exc) -> None:
        elapsed = self.timer() - self._started
        self.steps += 1
        if self._counter is not None:
            counter, self._counter = self._counter, None
            counter.__exit__(*exc)
            if counter.flops or counter.uncounted or self.count_flops:  # kept: its time is left out
                self.flops_per_step, self.flops_uncounted = counter.flops, counter.uncounted
                self._left_out, self._counted = self._left_out + elapsed, 1
                return
        if self.first_step is None:
            self.first_step = elapsed
        else:
            self.seconds += elapsed

    @property
    def seconds_per_step(self) -> float | None:
        timed = self.steps - 1 - self._counted
        return self.seconds / timed if timed > 0 else None

    @property
    def total_seconds(self) -> float:
        return self.seconds + (self.first_step or 0.0) + self._left_out


COUNTED_STEP = 2  # the step whose FLOPs a counting clock counts (0-based): after the tracing step and one more


def batch_indices(count: int, batch_size: int, steps: int, seed: int = 0) -> Iterator[np.ndarray]:
    """The item indices of ``steps`` training batches over ``count`` items, the same for both twins.

    Each pass over the data is a fresh permutation, by the book's one order rule
    (:func:`torchflow.prep.order.epoch_order`: seeded by ``seed`` and the pass number);
    a last partial batch is dropped, and the passes repeat until ``steps`` batches are
    given. Budgets count optimiser steps, not epochs, so a page trains as long on a
    small embedded subset as on the full data: the subset is cycled.
    """
    if batch_size < 1 or steps < 0:
        raise ValueError(f"batch_size must be >= 1 and steps >= 0, got {batch_size} and {steps}")
    if count < batch_size:
        raise ValueError(f"{count} items cannot fill one batch of {batch_size}")
    per_pass = count // batch_size
    given = 0
    for epoch in range(-(-steps // per_pass)):
        order = epoch_order(count, seed=seed, epoch=epoch)
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


def log_uniform_probability(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """Q(k) = log((k + 2) / (k + 1)) / log(V + 1): TensorFlow's log-uniform (Zipfian) candidate
    sampler, for ids sorted by decreasing frequency (id 0 the most frequent word)."""
    ids = np.asarray(ids, dtype=np.float64)
    return np.log((ids + 2.0) / (ids + 1.0)) / np.log(vocab_size + 1.0)


def log_uniform_negatives(num_sampled: int, vocab_size: int, rng: np.random.Generator,
                          dtype: str = "float32") -> tuple[np.ndarray, np.ndarray]:
    """``num_sampled`` noise word ids drawn with replacement from :func:`log_uniform_probability`
    (as ``tf.random.log_uniform_candidate_sampler(unique=False)``: ``exp(u log(V + 1)) - 1``, rounded
    down), and their expected counts ``num_sampled * Q(id)``: what a sampled loss needs, framework-free,
    so that both twins get the same noise."""
    if num_sampled < 1 or vocab_size < 1:
        raise ValueError(f"num_sampled and vocab_size must be >= 1, got {num_sampled} and {vocab_size}")
    ids = np.floor(np.exp(rng.random(num_sampled) * np.log(vocab_size + 1.0))).astype(np.int64) - 1
    ids = np.clip(ids, 0, vocab_size - 1)
    return ids, log_uniform_expected(ids, num_sampled, vocab_size, dtype)


def log_uniform_expected(ids: np.ndarray, num_sampled: int, vocab_size: int, dtype: str = "float32") -> np.ndarray:
    """How often ``num_sampled`` draws with replacement are expected to give each of ``ids``: S Q(id)."""
    return (num_sampled * log_uniform_probability(ids, vocab_size)).astype(dtype)


def combined_clock(clocks: Sequence[StepClock]) -> StepClock:
    """One clock for several trainings of a page (its models, one after the other): their steps and
    times added, each training's first (tracing) step left out of the time per step."""
    clocks = list(clocks)
    if not clocks:
        raise ValueError("no clocks to combine")
    combined = StepClock(sum(c.steps - c._counted for c in clocks) - len(clocks) + 1, sum(c.seconds for c in clocks),
                         sum(c.first_step or 0.0 for c in clocks) + sum(c._left_out for c in clocks))
    if all(c.flops_per_step for c in clocks):  # the mean step's FLOPs, each training weighted by its steps
        combined.flops_per_step = sum(c.flops_per_step * c.steps for c in clocks) / sum(c.steps for c in clocks)
        combined.flops_uncounted = sorted({name for c in clocks for name in c.flops_uncounted})
    return combined


def sample_sequence(step: Callable, first: Sequence[int], length: int, temperature: float,
                    rng: np.random.Generator, stop: int | None = None) -> list[int]:
    """Indices sampled from a recurrent model, one at a time, each fed back as the next input.

    ``step(indices, state)`` takes a (1, T) int64 array and the state (``None`` at first) and
    returns the logits (V,) of the next index and the new state. ``first`` is fed first; then
    ``length`` indices are drawn from softmax(logits / temperature), stopping early at ``stop``.
    The draws use ``rng``'s uniform numbers, so twins given the same generator draw alike.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if len(first) == 0:
        raise ValueError("sampling needs at least one first index")
    logits, state = step(np.asarray(first, dtype=np.int64)[None], None)
    out: list[int] = []
    for _ in range(length):
        scaled = np.asarray(logits, dtype=np.float64) / temperature
        probabilities = np.exp(scaled - scaled.max())
        cumulative = np.cumsum(probabilities / probabilities.sum())
        index = min(int(np.searchsorted(cumulative, rng.random())), len(cumulative) - 1)
        if index == stop:
            break
        out.append(index)
        logits, state = step(np.array([[index]], dtype=np.int64), state)
    return out


def fixed_uniform(shape: Sequence[int], seed: int = 0, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    """Uniform noise on [low, high) that both twins share (float32): a GAN's z ~ U(-1, 1)."""
    if not low < high:
        raise ValueError(f"need low < high, got {low} and {high}")
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)
