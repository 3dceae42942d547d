"""One rule for holding data out: :func:`split` cuts ``range(count)`` into named parts.

A seeded permutation of the items; the held-out parts are taken from its front in the order
they are named, and what is left trains. Every page that holds items out uses it, so a
validation part is never the test part of another page's rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split(Mapping):
    """Index arrays by part name: ``parts.train``, ``parts.validation``, ``parts["test"]``; each sorted."""

    parts: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.parts[name]

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("__") or name == "parts":
            raise AttributeError(name)
        try:
            return self.parts[name]
        except KeyError:
            raise AttributeError(f"no part {name!r}; the parts are {', '.join(self.parts)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.parts)

    def __len__(self) -> int:
        return len(self.parts)


def split(count: int, *, seed: int = 0, **held_out: int) -> Split:
    """``train`` and each held-out part of ``held_out`` (name -> size), from one seeded permutation.

    ``split(1000, validation=100, test=100)``: the permutation's first 100 items are the validation
    part, the next 100 the test part, the remaining 800 ``train``. Sizes must be positive and leave
    something to train on.
    """
    if "train" in held_out:
        raise ValueError("'train' is what is left: name only the held-out parts")
    if not held_out or any(int(size) < 1 for size in held_out.values()):
        raise ValueError(f"give each held-out part a size of at least 1, got {held_out}")
    if sum(held_out.values()) >= count:
        raise ValueError(f"held-out parts {held_out} leave nothing of {count} items to train on")
    order = np.random.default_rng(seed).permutation(count)
    cuts = np.cumsum(list(held_out.values()))
    pieces = np.split(order, cuts)
    parts = {"train": np.sort(pieces[-1])}
    parts.update({name: np.sort(piece) for name, piece in zip(held_out, pieces[:-1], strict=True)})
    return Split(parts)
