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


def nearest_neighbours(vectors: np.ndarray, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """The ``k`` rows of ``vectors`` nearest to each row (of ``rows``, default all) by cosine, itself excluded:
    ``(len(rows), k)`` indices, nearest first."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if not 1 <= k < len(vectors):
        raise ValueError(f"k must be between 1 and {len(vectors) - 1}, got {k}")
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    rows = np.arange(len(vectors)) if rows is None else np.asarray(rows)
    similarity = unit[rows] @ unit.T
    similarity[np.arange(len(rows)), rows] = -np.inf
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


def ppmi_vectors(ids: np.ndarray, vocab_size: int, window: int = 2) -> np.ndarray:
    """Positive pointwise mutual information of each word with each word within ``window`` of it in the
    stream ``ids``: ``(vocab_size, vocab_size)``, max(0, log p(w, c) / (p(w) p(c))). A word's row
    describes the contexts it occurs in: similar rows, similar use."""
    ids = np.asarray(ids, dtype=np.int64)
    counts = np.zeros((vocab_size, vocab_size))
    for offset in range(1, window + 1):
        np.add.at(counts, (ids[:-offset], ids[offset:]), 1)
        np.add.at(counts, (ids[offset:], ids[:-offset]), 1)
    total = counts.sum()
    expected = counts.sum(1, keepdims=True) * counts.sum(0, keepdims=True) / max(total, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(counts / expected)
    return np.where(counts > 0, np.maximum(pmi, 0), 0.0)


def neighbour_agreement(neighbours: np.ndarray, reference: np.ndarray) -> float:
    """Mean share of each row's neighbours that are also among its ``reference`` neighbours
    (both ``(N, k)`` index arrays): 1 when they agree, about k / (N - 1) for random neighbours."""
    neighbours, reference = np.asarray(neighbours), np.asarray(reference)
    if neighbours.shape != reference.shape:
        raise ValueError(f"neighbour lists of different shapes: {neighbours.shape} and {reference.shape}")
    return float(np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(neighbours, reference)]))


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


def corpus_bleu(hypotheses: list[str], references: list[str]) -> float:
    """Corpus BLEU (0-100) of tokenised sentences against one reference each: sacrebleu's BLEU-4
    (Papineni et al., 2002) with its defaults (exponential smoothing), on the words as given."""
    import sacrebleu

    if len(hypotheses) != len(references) or not references:
        raise ValueError(f"need as many hypotheses as references, at least one: {len(hypotheses)}, {len(references)}")
    return float(sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none").score)


def exact_match(hypotheses: list[str], references: list[str]) -> float:
    """The fraction of hypotheses identical to their reference."""
    if len(hypotheses) != len(references) or not references:
        raise ValueError(f"need as many hypotheses as references, at least one: {len(hypotheses)}, {len(references)}")
    return float(np.mean([h == r for h, r in zip(hypotheses, references, strict=True)]))


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
