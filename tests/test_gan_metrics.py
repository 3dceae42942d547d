"""The GAN chapter's scores: the best one-to-one matching of codes to classes (metrics) and the
Fréchet distance of two Gaussians against its closed form (judge)."""

import itertools

import numpy as np
import pytest

from torchflow.judge import frechet_distance
from torchflow.metrics import best_assignment, matching_accuracy


def test_matching_recovers_a_permuted_confusion_matrix():
    """Codes that are the classes under a permutation, with some noise: the matching undoes the permutation."""
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 10, 5000)
    permutation = rng.permutation(10)
    codes = np.argsort(permutation)[classes]  # code c stands for class permutation[c]
    noisy = rng.random(5000) < 0.3
    codes[noisy] = rng.integers(0, 10, noisy.sum())
    accuracy, assignment = matching_accuracy(codes, classes, 10)
    assert assignment.tolist() == permutation.tolist()
    assert accuracy == pytest.approx(np.mean(permutation[codes] == classes))
    assert 0.7 < accuracy < 0.75  # 70 % exact, plus a tenth of the 30 % redrawn


def test_matching_is_one_to_one_where_a_greedy_choice_is_not():
    """Two codes that both mostly hold class 0: a greedy argmax would map both to it."""
    codes = np.array([0] * 10 + [1] * 10)
    classes = np.array([0] * 6 + [1] * 4 + [0] * 9 + [2] * 1)
    accuracy, assignment = matching_accuracy(codes, classes, 2, num_classes=3)
    assert assignment.tolist() == [1, 0] and accuracy == pytest.approx(13 / 20)


def test_best_assignment_against_brute_force():
    rng = np.random.default_rng(1)
    for rows, cols in [(1, 1), (3, 3), (4, 6), (6, 6)]:
        for _ in range(20):
            scores = rng.integers(0, 50, (rows, cols)).astype(float)
            best = max(scores[np.arange(rows), list(p)].sum() for p in itertools.permutations(range(cols), rows))
            chosen = best_assignment(scores)
            assert len(set(chosen.tolist())) == rows
            assert scores[np.arange(rows), chosen].sum() == best


def test_matching_rejects_bad_arguments():
    with pytest.raises(ValueError, match="one-to-one"):
        matching_accuracy(np.zeros(3, int), np.zeros(3, int), 10, num_classes=5)
    with pytest.raises(ValueError, match="one length"):
        matching_accuracy(np.zeros(3, int), np.zeros(4, int), 10)
    with pytest.raises(ValueError, match="rows <= columns"):
        best_assignment(np.zeros((3, 2)))


def _with_moments(mean: np.ndarray, cov: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` points whose sample mean and (unbiased) covariance are exactly ``mean`` and ``cov``."""
    points = np.random.default_rng(seed).standard_normal((count, len(mean)))
    points -= points.mean(0)
    whitening = np.linalg.cholesky(np.cov(points, rowvar=False))
    points = points @ np.linalg.inv(whitening).T
    return points @ np.linalg.cholesky(cov).T + mean


def test_frechet_distance_of_two_gaussians_has_its_closed_form():
    """d^2 = |m1 - m2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)); for 2x2 matrices with a positive
    product, Tr((S1 S2)^(1/2)) = sqrt(Tr(S1 S2) + 2 sqrt(det S1 det S2)), even when S1 and S2 do not commute."""
    m1, m2 = np.array([0.5, -1.0]), np.array([2.0, 1.5])
    s1 = np.array([[2.0, 0.6], [0.6, 1.0]])
    s2 = np.array([[0.5, -0.3], [-0.3, 1.5]])  # s1 s2 != s2 s1
    assert not np.allclose(s1 @ s2, s2 @ s1)
    trace_root = np.sqrt(np.trace(s1 @ s2) + 2 * np.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    expected = ((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * trace_root
    got = frechet_distance(_with_moments(m1, s1, 500, 0), _with_moments(m2, s2, 700, 1))
    assert got == pytest.approx(expected, rel=1e-9)
    # diagonal covariances: the sum over dimensions of (m1 - m2)^2 + (s1 - s2)^2, with s the standard deviations
    d1, d2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    got = frechet_distance(_with_moments(np.zeros(3), np.diag(d1), 400, 2),
                           _with_moments(np.ones(3), np.diag(d2), 400, 3))
    assert got == pytest.approx(3 + ((np.sqrt(d1) - np.sqrt(d2)) ** 2).sum(), rel=1e-9)


def test_frechet_scale_needs_sets_of_one_size():
    from torchflow.judge import Judge

    judge = Judge({}, 0.0, "", "torch")
    with pytest.raises(ValueError, match="one size"):
        judge.frechet_scale(np.zeros((10, 784)), np.zeros((9, 784)), np.zeros((10, 784)))


def test_fixed_uniform_noise_is_shared_and_in_range():
    from torchflow.training import fixed_uniform

    noise = fixed_uniform((1000, 16), seed=3)
    assert noise.dtype == np.float32 and noise.min() >= -1 and noise.max() < 1
    assert np.array_equal(noise, fixed_uniform((1000, 16), seed=3))
    assert abs(noise.mean()) < 0.02 and noise.var() == pytest.approx(1 / 3, rel=0.05)
    with pytest.raises(ValueError, match="low < high"):
        fixed_uniform((2, 2), low=1.0, high=1.0)


def test_styled_curves_give_each_key_its_line_style():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from torchflow.plot import plot_styled_curves

    histories = {name: {"steps": [1, 2, 3], "d_loss": [1.0, 0.9, 0.8], "g_loss": [2.0, 1.5, 1.2]}
                 for name in ("torch", "tensorflow")}
    _, ax = plt.subplots()
    plot_styled_curves(histories, ("d_loss", "g_loss"), ax=ax, ylabel="loss")
    assert [line.get_linestyle() for line in ax.lines] == ["-", "-", "--", "--"]
    assert [line.get_label() for line in ax.lines] == ["PyTorch d_loss", "TensorFlow d_loss",
                                                       "PyTorch g_loss", "TensorFlow g_loss"]
    with pytest.raises(ValueError, match="line styles"):
        plot_styled_curves(histories, ("a", "b", "c", "d", "e"), ax=ax, ylabel="?")
    plt.close("all")
