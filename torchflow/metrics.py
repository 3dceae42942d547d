"""Scores computed from predictions, framework-free: confusion matrices and per-class accuracy."""

from __future__ import annotations

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts (true class, predicted class)."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Accuracy of each true class, from a confusion matrix."""
    return np.diag(matrix) / np.maximum(matrix.sum(1), 1)


def ngram_bits_per_char(train: np.ndarray, test: np.ndarray, vocab_size: int, order: int = 1) -> float:
    """Bits per character of the index sequence ``test`` under an n-gram model counted on ``train``.

    ``order=1``: each character by its frequency (unigram); ``order=2``: by its frequency after the
    previous character (bigram). Counts are add-one smoothed, so a pair never seen in ``train`` has a
    small probability rather than zero.
    """
    train, test = np.asarray(train), np.asarray(test)
    if order == 1:
        counts = np.bincount(train, minlength=vocab_size) + 1.0
        return float(-np.log2(counts[test] / counts.sum()).mean())
    if order == 2:
        counts = np.ones((vocab_size, vocab_size))
        np.add.at(counts, (train[:-1], train[1:]), 1.0)
        return float(-np.log2(counts[test[:-1], test[1:]] / counts[test[:-1]].sum(1)).mean())
    raise ValueError(f"order must be 1 (unigram) or 2 (bigram), got {order}")
