"""Character n-gram baselines for names: a multinomial naive Bayes classifier and a class-conditioned
sampler. NumPy and dictionaries only; each fits in seconds on the surnames.

:class:`CharNgramBayes` -- a name is the bag of its character n-grams (orders 1..3 by default) of
``^name$`` (``^`` and ``$`` mark its start and end, so ``^Mc`` and ``ski$`` are features of their own)::

    log P(c | name) = log P(c) + sum_g n_g(name) log P(g | c) + const
    P(g | c)        = (count(g, c) + k) / (sum_g' count(g', c) + k V)

``P(c)`` the class frequencies of the training names, ``V`` the number of distinct training n-grams, ``k``
the add-k smoothing (``k = 1``: Laplace), chosen on validation names by :func:`choose_smoothing`.
N-grams never seen in training are left out (they would add the same ``log k / ...`` to no class).

:class:`CharNgramSampler` -- per class, the counts of which character follows each context of up to
``order - 1`` characters of ``^name$``; a name is drawn one character at a time from the counts of the
longest context seen in that class (falling back to shorter ones), until ``$``; at a temperature
``tau`` the counts are raised to ``1 / tau`` (``tau < 1``: the frequent continuations more often).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

START, END = "^", "$"


def char_ngrams(name: str, orders: Sequence[int] = (1, 2, 3)) -> list[str]:
    """Every character n-gram of ``^name$`` for each order of ``orders`` (repeats kept)."""
    text = START + name + END
    return [text[i : i + n] for n in orders for i in range(len(text) - n + 1)]


class CharNgramBayes:
    """Multinomial naive Bayes over character n-grams (module docstring); ``smoothing`` is the add-k ``k``."""

    def __init__(self, orders: Sequence[int] = (1, 2, 3), smoothing: float = 1.0) -> None:
        if smoothing <= 0:
            raise ValueError(f"smoothing must be > 0, got {smoothing}")
        if not orders or min(orders) < 1:
            raise ValueError(f"orders must be >= 1, got {orders}")
        self.orders, self.smoothing = tuple(orders), float(smoothing)
        self.features: dict[str, int] = {}

    def fit(self, names: Sequence[str], labels: Sequence[int], num_classes: int) -> CharNgramBayes:
        labels = np.asarray(labels, dtype=np.int64)
        grams = [char_ngrams(name, self.orders) for name in names]
        self.features = {g: i for i, g in enumerate(sorted({g for name in grams for g in name}))}
        counts = np.zeros((num_classes, len(self.features)))
        for name, label in zip(grams, labels, strict=True):
            for g, n in Counter(name).items():
                counts[label, self.features[g]] += n
        self.counts = counts
        self.set_smoothing(self.smoothing)
        self.log_prior = np.log(np.bincount(labels, minlength=num_classes) / len(labels))
        return self

    def set_smoothing(self, smoothing: float) -> CharNgramBayes:
        """Re-smooth the fitted counts with another ``k`` (no recount)."""
        self.smoothing = float(smoothing)
        smoothed = self.counts + self.smoothing
        self.log_likelihood = np.log(smoothed / smoothed.sum(1, keepdims=True))  # (classes, V)
        return self

    def features_of(self, names: Sequence[str]) -> np.ndarray:
        """The (names, V) matrix of n-gram counts over the training n-grams."""
        matrix = np.zeros((len(names), len(self.features)))
        for row, name in enumerate(names):
            for g in char_ngrams(name, self.orders):
                if g in self.features:
                    matrix[row, self.features[g]] += 1
        return matrix

    def log_posterior(self, names: Sequence[str]) -> np.ndarray:
        """log P(class | name), (names, classes), normalised over the classes."""
        joint = self.features_of(names) @ self.log_likelihood.T + self.log_prior
        return joint - np.logaddexp.reduce(joint, axis=1, keepdims=True)

    def predict(self, names: Sequence[str]) -> np.ndarray:
        return self.log_posterior(names).argmax(1)

    def accuracy(self, names: Sequence[str], labels: Sequence[int]) -> float:
        return float((self.predict(names) == np.asarray(labels)).mean())


def choose_smoothing(train_names: Sequence[str], train_labels: Sequence[int], valid_names: Sequence[str],
                     valid_labels: Sequence[int], num_classes: int, orders: Sequence[int] = (1, 2, 3),
                     smoothings: Sequence[float] = (0.01, 0.03, 0.1, 0.3, 1.0)) -> tuple[float, dict[float, float]]:
    """The add-k ``k`` with the best validation accuracy (the largest among ties), and each ``k``'s accuracy."""
    model = CharNgramBayes(orders, smoothings[0]).fit(train_names, train_labels, num_classes)
    features = model.features_of(valid_names)
    scores = {}
    for k in smoothings:
        model.set_smoothing(k)
        scores[k] = float(((features @ model.log_likelihood.T + model.log_prior).argmax(1)
                           == np.asarray(valid_labels)).mean())
    best = max(scores.values())
    return max(k for k, score in scores.items() if score == best), scores


class CharNgramSampler:
    """A character n-gram model of names per class, sampled letter by letter (module docstring)."""

    def __init__(self, order: int = 3) -> None:
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        self.order = order
        self.next: list[dict[str, Counter]] = []

    def fit(self, names: Sequence[str], labels: Sequence[int], num_classes: int) -> CharNgramSampler:
        self.next = [defaultdict(Counter) for _ in range(num_classes)]
        for name, label in zip(names, labels, strict=True):
            text = START + name + END
            for i in range(1, len(text)):
                for n in range(self.order):  # contexts of 0 .. order - 1 characters before text[i]
                    if i - n >= 0:
                        self.next[label][text[i - n : i]][text[i]] += 1
        return self

    def distribution(self, prefix: str, label: int) -> Counter:
        """The next-character counts after ``^prefix`` in class ``label``, from the longest context seen."""
        text = START + prefix
        table = self.next[label]
        for n in range(min(self.order - 1, len(text)), -1, -1):
            context = text[len(text) - n :]
            if context in table:
                return table[context]
        raise ValueError(f"class {label} has no training names")

    def sample(self, label: int, start: str, rng: np.random.Generator, max_length: int = 20,
               temperature: float = 1.0) -> str:
        """One name of class ``label`` that begins with ``start``, at most ``max_length`` characters."""
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        name = start
        while len(name) < max_length:
            counts = self.distribution(name, label)
            keys = sorted(counts)
            p = np.array([counts[k] for k in keys], dtype=float) ** (1 / temperature)
            char = keys[rng.choice(len(keys), p=p / p.sum())]
            if char == END:
                break
            name += char
        return name
