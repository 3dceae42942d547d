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


def best_assignment(scores: np.ndarray) -> np.ndarray:
    """The one-to-one assignment of rows to columns with the largest total score (Hungarian method).

    ``scores`` is (n_rows, n_cols) with n_rows <= n_cols; returns, for each row, its column.
    O(n^3) (the shortest-augmenting-path form of Kuhn and Munkres), NumPy only.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] > scores.shape[1] or not np.isfinite(scores).all():
        raise ValueError(f"need a finite (rows, columns) matrix with rows <= columns, got shape {scores.shape}")
    cost = scores.max(initial=0.0) - scores  # minimise cost = maximise score
    rows, cols = cost.shape
    u, v = np.zeros(rows + 1), np.zeros(cols + 1)
    match = np.zeros(cols + 1, dtype=np.int64)  # match[j]: the row (1-based) assigned to column j; 0 = free
    for row in range(1, rows + 1):
        match[0], free_col = row, 0
        best = np.full(cols + 1, np.inf)
        previous = np.zeros(cols + 1, dtype=np.int64)
        used = np.zeros(cols + 1, dtype=bool)
        while match[free_col]:
            used[free_col] = True
            current_row = match[free_col]
            reduced = cost[current_row - 1] - u[current_row] - v[1:]
            improve = ~used[1:] & (reduced < best[1:])
            best[1:][improve] = reduced[improve]
            previous[1:][improve] = free_col
            candidates = np.where(used[1:], np.inf, best[1:])
            next_col = int(np.argmin(candidates)) + 1
            delta = candidates[next_col - 1]
            u[match[used]] += delta
            v[used] -= delta
            best[1:][~used[1:]] -= delta
            free_col = next_col
        while free_col:
            prior = previous[free_col]
            match[free_col] = match[prior]
            free_col = prior
    assignment = np.empty(rows, dtype=np.int64)
    for col in range(1, cols + 1):
        if match[col]:
            assignment[match[col] - 1] = col - 1
    return assignment


def matching_accuracy(codes: np.ndarray, classes: np.ndarray, num_codes: int,
                      num_classes: int | None = None) -> tuple[float, np.ndarray]:
    """Accuracy of the best one-to-one matching of unsupervised ``codes`` to ``classes``.

    Each code is mapped to a different class so that the most items agree (the
    usual score of a clustering, e.g. InfoGAN's categorical code against the true
    labels); returns (accuracy, the class of each code).
    """
    num_classes = num_codes if num_classes is None else num_classes
    if num_codes > num_classes:
        raise ValueError(f"a one-to-one matching needs num_codes <= num_classes, got {num_codes} > {num_classes}")
    codes, classes = np.asarray(codes), np.asarray(classes)
    if codes.shape != classes.shape or len(codes) == 0:
        raise ValueError(f"codes and classes must be two non-empty arrays of one length, got {codes.shape}, "
                         f"{classes.shape}")
    counts = np.zeros((num_codes, num_classes), dtype=np.int64)
    np.add.at(counts, (codes, classes), 1)
    assignment = best_assignment(counts)
    return float(counts[np.arange(num_codes), assignment].sum() / len(codes)), assignment


def mean_pairwise_distance(features: np.ndarray) -> float:
    """The mean Euclidean distance between two different rows of ``features`` (N, d): a diversity score.

    Samples that collapse onto few modes score near 0; a set of real images gives the scale.
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need a (N, d) array with N >= 2, got shape {features.shape}")
    squares = (features**2).sum(1)
    distances = np.sqrt(np.clip(squares[:, None] + squares[None, :] - 2 * features @ features.T, 0, None))
    count = len(features)
    return float(distances[np.triu_indices(count, 1)].mean())
