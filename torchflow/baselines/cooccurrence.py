"""Count-based word baselines (NumPy only): what a specialist computes before training word vectors.

* :func:`ppmi_svd` -- word vectors from a truncated SVD of the positive pointwise mutual information
  (PPMI) matrix of the training text (Levy, Goldberg and Dagan, 2015): ``U_k S_k^(1/2)``, the top ``k``
  singular vectors weighted by the square roots of their singular values, so that
  ``E E^T`` is the best rank-``k`` approximation of the PPMI matrix's symmetric part;
* :func:`unigram_nats` -- the cost in nats of each held-out word under the training frequencies
  (add-``smoothing`` counts): the "context predicted from frequency" a skip-gram must beat.

Window co-occurrence counts are symmetric, so the PPMI matrix is symmetric: its singular vectors are its
eigenvectors and its singular values the absolute values of its eigenvalues. A randomised range finder
(Halko, Martinsson and Tropp, 2011) with a few power iterations finds the top ``k`` of them in about a
second at a vocabulary of 3,000, where a full decomposition takes tens of seconds on one core.
"""

from __future__ import annotations

import numpy as np

from torchflow.metrics import ppmi_vectors


def top_singular(matrix: np.ndarray, k: int, iterations: int = 8, oversample: int | None = None,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest singular values ``s`` (descending) and left singular vectors ``U`` (columns) of a
    symmetric ``matrix``, by a randomised range finder with ``iterations`` power iterations."""
    matrix = np.asarray(matrix, dtype=np.float64)
    n = len(matrix)
    if matrix.shape != (n, n) or not np.allclose(matrix, matrix.T):
        raise ValueError(f"need a symmetric square matrix, got shape {matrix.shape}")
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and {n - 1}, got {k}")
    width = min(n, k + (k if oversample is None else oversample))
    basis, _ = np.linalg.qr(matrix @ np.random.default_rng(seed).standard_normal((n, width)))
    for _ in range(iterations):  # each product sharpens the basis towards the largest |eigenvalues|
        basis, _ = np.linalg.qr(matrix @ basis)
    values, vectors = np.linalg.eigh(basis.T @ matrix @ basis)  # the small (width, width) projection
    order = np.argsort(-np.abs(values), kind="stable")[:k]
    return np.abs(values[order]), basis @ vectors[:, order]


def ppmi_svd(ids: np.ndarray, vocab_size: int, dim: int, window: int = 2, iterations: int = 8) -> np.ndarray:
    """``(vocab_size, dim)`` word vectors ``U_k S_k^(1/2)`` of the PPMI matrix of the stream ``ids``
    (co-occurrence within ``window`` positions, :func:`torchflow.metrics.ppmi_vectors`)."""
    singular, vectors = top_singular(ppmi_vectors(ids, vocab_size, window), dim, iterations)
    return vectors * np.sqrt(singular)


def unigram_nats(train_ids: np.ndarray, targets: np.ndarray, vocab_size: int, smoothing: float = 1.0) -> np.ndarray:
    """``-log p(w)`` of each of ``targets`` with ``p`` the training frequency of ``w`` (counts of
    ``train_ids`` plus ``smoothing``, so that a word never seen in training has a finite cost)."""
    if smoothing <= 0:
        raise ValueError(f"smoothing must be > 0, got {smoothing}")
    counts = np.bincount(np.asarray(train_ids, dtype=np.int64), minlength=vocab_size)[:vocab_size] + smoothing
    return -np.log(counts / counts.sum())[np.asarray(targets, dtype=np.int64)]
