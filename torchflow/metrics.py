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
