"""The embedding chapter's count baselines and metrics against hand computations and brute-force loops:
PPMI, its truncated SVD, the unigram context cost, the neighbour check and its noise, frequent-word
subsampling and word2vec's noise distribution. See ``tools/mutants/embeddings_pages.toml``."""

import math
from collections import Counter

import numpy as np
import pytest

from torchflow.baselines.cooccurrence import ppmi_svd, top_singular, unigram_nats
from torchflow.metrics import chunked_mean, nearest_neighbours, neighbour_agreement_with_noise, ppmi_vectors
from torchflow.prep.words import draw_negatives, keep_probability, subsample, unigram_noise


def _ppmi_by_loops(ids: list[int], vocab_size: int, window: int) -> np.ndarray:
    """PPMI from its definition: every (word, neighbour) pair within ``window`` counted with a Counter."""
    pairs = Counter((ids[i], ids[j]) for i in range(len(ids)) for j in range(len(ids))
                    if i != j and abs(i - j) <= window)
    total = sum(pairs.values())
    rows, cols = Counter(), Counter()
    for (w, c), n in pairs.items():
        rows[w] += n
        cols[c] += n
    out = np.zeros((vocab_size, vocab_size))
    for (w, c), n in pairs.items():
        out[w, c] = max(0.0, math.log((n / total) / ((rows[w] / total) * (cols[c] / total))))
    return out


def test_ppmi_by_hand_and_by_loops():
    """[0, 1, 0, 2], window 1: pairs 01, 10 twice each, 02 and 20 once; total 6, margins (3, 2, 1):
    PMI(0, 1) = log(2/6 / (3/6 * 2/6)) = log 2, PMI(0, 2) = log(1/6 / (3/6 * 1/6)) = log 2."""
    expected = np.zeros((3, 3))
    expected[0, 1] = expected[1, 0] = expected[0, 2] = expected[2, 0] = np.log(2)
    np.testing.assert_allclose(ppmi_vectors(np.array([0, 1, 0, 2]), 3, window=1), expected)
    ids = np.random.default_rng(0).zipf(1.6, 400) % 12  # frequent and rare words: negative PMIs occur
    for window in (1, 2):
        by_loops = _ppmi_by_loops(ids.tolist(), 12, window)
        np.testing.assert_allclose(ppmi_vectors(ids, 12, window), by_loops, atol=1e-12)
    assert (by_loops > 0).any() and (by_loops == 0).sum() > 12  # some pairs were clipped at zero


def test_top_singular_finds_the_largest_absolute_eigenvalues():
    """A symmetric matrix of known spectrum (10, -8, 6, 3, 1, ...): singular values 10, 8, 6 and the
    matching eigenvectors (up to sign)."""
    rng = np.random.default_rng(1)
    basis, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    spectrum = np.concatenate([[10.0, -8.0, 6.0, 3.0], rng.uniform(-1, 1, 26)])
    matrix = basis @ np.diag(spectrum) @ basis.T
    values, vectors = top_singular((matrix + matrix.T) / 2, 3)
    np.testing.assert_allclose(values, [10, 8, 6], rtol=1e-8)
    np.testing.assert_allclose(np.abs(np.sum(vectors * basis[:, :3], 0)), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="symmetric"):
        top_singular(rng.standard_normal((4, 4)), 2)


def test_ppmi_svd_is_u_times_root_s_of_the_exact_svd():
    """E E^T of the baseline equals U_k S_k U_k^T of NumPy's full SVD of the PPMI matrix, and E^T E the
    diagonal of the top singular values (U alone would give the identity)."""
    ids = np.random.default_rng(2).zipf(1.5, 3_000) % 40
    dim = 6
    u, s, _ = np.linalg.svd(ppmi_vectors(ids, 40, 2))
    vectors = ppmi_svd(ids, 40, dim, window=2, iterations=60)
    assert vectors.shape == (40, dim)
    np.testing.assert_allclose(vectors @ vectors.T, (u[:, :dim] * s[:dim]) @ u[:, :dim].T, atol=1e-8)
    np.testing.assert_allclose(vectors.T @ vectors, np.diag(s[:dim]), atol=1e-8)


def test_unigram_nats_by_hand():
    """train [0, 0, 1], V = 3, add-one: counts (3, 2, 1) / 6."""
    np.testing.assert_allclose(unigram_nats(np.array([0, 0, 1]), np.array([0, 2, 1]), 3),
                               [np.log(2), np.log(6), np.log(3)])
    with pytest.raises(ValueError, match="smoothing"):
        unigram_nats(np.array([0]), np.array([0]), 2, smoothing=0)


def test_nearest_neighbours_and_agreement_by_hand():
    """Cosines: row 0 is nearest to 1 (0.99), then 2 (0), then 3 (-1.0); row 2 to 1 (0.11), then 3
    (0.05): itself is never its own neighbour. Against the reference [[1, 3], [0, 3], [3, 1], [2, 1]]
    the rows share 1, 1, 2 and 2 of their 2 neighbours: mean 3/4, standard error std / sqrt(4)."""
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.05]])
    found = nearest_neighbours(vectors, 2)
    np.testing.assert_array_equal(found, [[1, 2], [0, 2], [1, 3], [2, 1]])
    reference = np.array([[1, 3], [0, 3], [3, 1], [2, 1]])
    mean, error = neighbour_agreement_with_noise(found, reference)
    shares = np.array([0.5, 0.5, 1.0, 1.0])
    assert mean == pytest.approx(shares.mean())
    assert error == pytest.approx(shares.std(ddof=1) / 2)
    with pytest.raises(ValueError):
        neighbour_agreement_with_noise(found, reference[:, :1])


def test_chunked_mean_by_hand():
    """[1, 2, 3, 4] in 2 chunks: means 1.5 and 3.5, standard error std(1.5, 3.5) / sqrt(2) = 1."""
    assert chunked_mean(np.array([1.0, 2, 3, 4]), 2) == pytest.approx((2.5, 1.0))
    with pytest.raises(ValueError):
        chunked_mean(np.array([1.0]), 2)


def test_keep_probability_by_hand_and_subsample_keeps_that_share():
    """Frequencies 0.9, 0.09, 0.01 and t = 0.01: the paper keeps sqrt(t / f) = 0.105, 0.333, 1; the C
    code adds t / f: 0.117, 0.444, 1 (capped)."""
    counts = np.array([900, 90, 10])
    np.testing.assert_allclose(keep_probability(counts, 0.01), [np.sqrt(1 / 90), np.sqrt(1 / 9), 1.0])
    np.testing.assert_allclose(keep_probability(counts, 0.01, "code"),
                               [np.sqrt(1 / 90) + 1 / 90, np.sqrt(1 / 9) + 1 / 9, 1.0])
    ids = np.repeat([0, 1, 2], [90_000, 9_000, 1_000])
    kept = np.bincount(subsample(ids, keep_probability(counts, 0.01), np.random.default_rng(0)), minlength=3)
    np.testing.assert_allclose(kept / [90_000, 9_000, 1_000], [np.sqrt(1 / 90), np.sqrt(1 / 9), 1.0], atol=0.01)
    with pytest.raises(ValueError, match="formula"):
        keep_probability(counts, 0.01, "other")


def test_unigram_noise_is_the_three_quarter_power():
    """Counts 16 and 1: 16^(3/4) = 8, so the noise draws them 8/9 and 1/9 of the time."""
    noise = unigram_noise(np.array([16, 1]))
    np.testing.assert_allclose(noise, [8 / 9, 1 / 9])
    draws = draw_negatives(noise, (50_000, 5), np.random.default_rng(0))
    assert draws.shape == (50_000, 5) and draws.dtype == np.int64
    assert (draws == 1).mean() == pytest.approx(1 / 9, abs=0.005)
