"""An interpolated Kneser-Ney character n-gram language model (Kneser and Ney, 1995; the interpolated
form of Chen and Goodman, 1998) and :func:`choose_order`, its order chosen on a validation slice.

Interpolated Kneser-Ney, for a context ``h`` of ``n - 1`` characters and its suffix ``h'``::

    P_n(w | h) = (a(h, w) - D_n)+ / A(h)  +  D_n T(h) / A(h) * P_{n-1}(w | h')
    P_0(w)     = 1 / V

``a`` is the raw count at the highest order and the *continuation* count (the number of
different characters seen before ``h w``) at lower orders; ``A(h) = sum_w a(h, w)``; ``T(h)``
the number of characters with ``a(h, w) > 0``; ``D_n = n1 / (n1 + 2 n2)`` from the numbers of
n-grams counted once and twice (Ney et al., 1994). A context never seen falls back to ``P_{n-1}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class _Order:
    """The counts of one order n: the n-grams as sorted integer codes, and their contexts."""

    keys: np.ndarray  # sorted codes of the n-grams seen
    counts: np.ndarray  # a(h, w) of each, float64
    context_keys: np.ndarray  # sorted codes of the contexts h
    context_totals: np.ndarray  # A(h)
    context_types: np.ndarray  # T(h)
    discount: float


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``values`` of ``queries`` in the sorted ``keys``, 0 where a query is absent."""
    if len(keys) == 0:
        return np.zeros(len(queries))
    index = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where(keys[index] == queries, values[index], 0.0)


def _codes(ids: np.ndarray, n: int, base: int) -> np.ndarray:
    """The integer code of every n-gram of the stream ``ids`` (oldest character most significant)."""
    code = np.zeros(len(ids) - n + 1, dtype=np.int64)
    for j in range(n):
        code = code * base + ids[j : len(ids) - n + 1 + j]
    return code


class CharNgram:
    """An interpolated Kneser-Ney character n-gram model of order ``order`` (contexts of ``order - 1``
    characters) over ``vocab_size`` symbols.

    >>> model = CharNgram().fit(train_ids, vocab_size=65, order=5)   # doctest: +SKIP
    >>> model.bits_per_char(test_ids)                                 # doctest: +SKIP

    ``discount``: ``None`` estimates each order's discount from its counts of counts (clipped to
    [0.05, 0.95], so that every seen context keeps some mass for characters it has not been seen
    with); a number uses it at every order (``0`` gives maximum-likelihood counts at the highest
    order, e.g. ``order=1, discount=0`` is the plain unigram frequency).
    """

    def __init__(self, discount: float | None = None) -> None:
        if discount is not None and not 0 <= discount <= 1:
            raise ValueError(f"a discount must be in [0, 1], got {discount}")
        self.discount = discount
        self.orders: list[_Order] = []
        self.vocab_size = 0

    @property
    def order(self) -> int:
        return len(self.orders)

    def fit(self, train_ids: np.ndarray, vocab_size: int, order: int) -> CharNgram:
        """Count the n-grams of orders 1..``order`` of the index stream ``train_ids``."""
        ids = np.asarray(train_ids, dtype=np.int64)
        if order < 1 or vocab_size < 1:
            raise ValueError(f"need order >= 1 and vocab_size >= 1, got {order}, {vocab_size}")
        if len(ids) < order:
            raise ValueError(f"{len(ids)} training characters cannot hold one {order}-gram")
        if ids.min() < 0 or ids.max() >= vocab_size:
            raise ValueError(f"training ids must lie in [0, {vocab_size}), got [{ids.min()}, {ids.max()}]")
        if float(vocab_size) ** order >= 2.0**62:
            raise ValueError(f"{vocab_size}^{order} n-grams do not fit the 64-bit codes")
        self.vocab_size = vocab_size
        self.orders = []
        for n in range(1, order + 1):
            if n == order:  # the highest order: raw counts
                keys, counts = np.unique(_codes(ids, n, vocab_size), return_counts=True)
            else:  # lower orders: in how many different left contexts each n-gram occurs
                longer = np.unique(_codes(ids, n + 1, vocab_size))
                keys, counts = np.unique(longer % vocab_size**n, return_counts=True)
            counts = counts.astype(np.float64)
            contexts = keys // vocab_size
            context_keys, first, types = np.unique(contexts, return_index=True, return_counts=True)
            totals = np.add.reduceat(counts, first) if len(counts) else counts
            self.orders.append(_Order(keys, counts, context_keys, totals, types.astype(np.float64),
                                      self._discount_for(counts)))
        return self

    def _discount_for(self, counts: np.ndarray) -> float:
        if self.discount is not None:
            return float(self.discount)
        once, twice = np.sum(counts == 1), np.sum(counts == 2)
        estimate = once / (once + 2 * twice) if once else 0.0  # no singletons: plenty of data, the smallest discount
        return float(np.clip(estimate, 0.05, 0.95))

    def _probabilities(self, history: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """P(target | history) per row: ``history`` (M, order - 1) of ids, oldest first, -1 where the text
        has not started yet (only the contexts that fit are used)."""
        if not self.orders:
            raise RuntimeError("fit the model first")
        base, width = self.vocab_size, self.order - 1
        targets = np.asarray(targets, dtype=np.int64)
        if targets.size and (targets.min() < 0 or targets.max() >= base):
            raise ValueError(f"ids must lie in [0, {base})")
        probability = np.full(len(targets), 1.0 / base)
        for n, table in enumerate(self.orders, start=1):
            context = history[:, width - (n - 1) :]
            available = (context >= 0).all(1)
            code = np.zeros(len(targets), dtype=np.int64)
            for column in context.T:
                code = code * base + np.maximum(column, 0)
            total = _lookup(table.context_keys, table.context_totals, code)
            types = _lookup(table.context_keys, table.context_types, code)
            count = _lookup(table.keys, table.counts, code * base + targets)
            seen = available & (total > 0)
            safe = np.where(seen, total, 1.0)
            mixed = (np.maximum(count - table.discount, 0) + table.discount * types * probability) / safe
            probability = np.where(seen, mixed, probability)
        return probability

    def log2_probabilities(self, ids: np.ndarray) -> np.ndarray:
        """log2 P(ids[i] | the characters of ``ids`` before i), for every i (the first ones with shorter contexts)."""
        ids = np.asarray(ids, dtype=np.int64)
        width = self.order - 1
        padded = np.concatenate([np.full(width, -1, dtype=np.int64), ids])
        history = np.lib.stride_tricks.sliding_window_view(padded, width)[: len(ids)] if width else \
            np.zeros((len(ids), 0), dtype=np.int64)
        with np.errstate(divide="ignore"):
            return np.log2(self._probabilities(history, ids))

    def bits_per_char(self, ids: np.ndarray) -> float:
        """The mean number of bits per character of ``ids`` under the model (its cross-entropy in bits)."""
        return float(-self.log2_probabilities(ids).mean())

    def distribution(self, context: Sequence[int]) -> np.ndarray:
        """P(w | context) for every symbol w: (vocab_size,). Only the last ``order - 1`` ids of ``context`` count."""
        width = self.order - 1
        recent = list(context)[-width:] if width else []
        row = np.array([-1] * (width - len(recent)) + recent, dtype=np.int64)
        return self._probabilities(np.tile(row, (self.vocab_size, 1)), np.arange(self.vocab_size))


def choose_order(train_ids: np.ndarray, validation_ids: np.ndarray, vocab_size: int,
                 orders: Sequence[int] = (2, 3, 4, 5, 6),
                 discount: float | None = None) -> tuple[int, dict[int, float]]:
    """The order whose model, fitted on ``train_ids``, has the fewest bits per character on ``validation_ids``
    (a slice of the training stream, never the test text): ``(best order, {order: validation bits per char})``."""
    scores = {n: CharNgram(discount).fit(train_ids, vocab_size, n).bits_per_char(validation_ids) for n in orders}
    return min(scores, key=scores.get), scores
