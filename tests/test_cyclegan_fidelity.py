"""The CycleGAN page's input-fidelity score and its untrained translators, against brute-force loops and
cases whose answer is known (an output that is its input, one that ignores it)."""

import numpy as np
import pytest

from torchflow.baselines.image_translation import identity_translation, nearest_target_images, random_target_images
from torchflow.metrics import translation_fidelity


def _brute_force(inputs, outputs):
    """The score by explicit loops: for each input, count the other outputs farther from it than its own."""
    n = len(inputs)
    x, y = inputs.reshape(n, -1).astype(np.float64), outputs.reshape(n, -1).astype(np.float64)

    def d(i, j):
        return np.sqrt(np.mean((x[i] - y[j]) ** 2))

    shares = [sum(1.0 if d(i, j) > d(i, i) else 0.5 if d(i, j) == d(i, i) else 0.0
                  for j in range(n) if j != i) / (n - 1) for i in range(n)]
    return np.mean(shares), np.std(shares, ddof=1) / np.sqrt(n)


def test_fidelity_matches_a_brute_force_loop():
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(9, 3, 4))
    outputs = inputs + rng.normal(scale=1.2, size=inputs.shape)  # keeps part of its input
    ratio, error = translation_fidelity(inputs, outputs)
    expected, expected_error = _brute_force(inputs, outputs)
    assert ratio == pytest.approx(expected, rel=1e-12) and error == pytest.approx(expected_error, rel=1e-9)
    assert 0.5 < ratio < 1 and error > 0


def test_fidelity_by_hand_on_three_points():
    """x = 0, 1, 3 (one pixel) translated to y = x + 1.5: own distances 1.5 each; the others |x_i - y_j|
    (j != i): 2.5, 4.5 (i = 0: both farther), 0.5, 3.5 (i = 1: one), 1.5, 0.5 (i = 2: a tie and a nearer
    one: half). Shares 1, 1/2, 1/4: the score is 7/12."""
    x = np.array([[0.0], [1.0], [3.0]])
    share, error = translation_fidelity(x, x + 1.5)
    assert share == pytest.approx(7 / 12)
    assert error == pytest.approx(np.std([1, 0.5, 0.25], ddof=1) / np.sqrt(3))


def test_the_identity_scores_one_and_one_fixed_output_scores_one_half():
    rng = np.random.default_rng(1)
    inputs = rng.uniform(-1, 1, (20, 1, 28, 28)).astype(np.float32)
    assert translation_fidelity(inputs, identity_translation(inputs)) == (1.0, 0.0)
    fixed = np.repeat(rng.uniform(-1, 1, (1, 1, 28, 28)), 20, axis=0)
    assert translation_fidelity(inputs, fixed) == (0.5, 0.0)  # every pair a tie


def test_outputs_that_ignore_their_inputs_score_about_one_half_within_their_error():
    rng = np.random.default_rng(2)
    inputs, unrelated = rng.normal(size=(2, 400, 16))
    share, error = translation_fidelity(inputs, unrelated)
    assert abs(share - 0.5) < 3 * error
    assert translation_fidelity(inputs, inputs + rng.normal(scale=1.0, size=inputs.shape))[0] > 0.5 + 10 * error


def test_the_standard_error_matches_the_spread_over_repeated_draws():
    """Monte Carlo: the score's standard deviation over 300 independent data sets of 100 items is what one
    data set's error says, within 25 %."""
    rng = np.random.default_rng(3)
    shares, errors = [], []
    for _ in range(300):
        inputs = rng.normal(size=(100, 8))
        share, error = translation_fidelity(inputs, inputs + rng.normal(scale=1.5, size=inputs.shape))
        shares.append(share)
        errors.append(error)
    assert np.mean(errors) == pytest.approx(np.std(shares, ddof=1), rel=0.25)


def test_fidelity_refuses_mismatched_or_degenerate_sets():
    with pytest.raises(ValueError):
        translation_fidelity(np.zeros((4, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError):
        translation_fidelity(np.zeros((1, 3)), np.zeros((1, 3)))


def test_random_target_images_are_distinct_training_images():
    target = np.arange(50 * 4).reshape(50, 2, 2)
    drawn = random_target_images(target, 30, seed=0)
    rows = {tuple(image.ravel()) for image in drawn}
    assert len(rows) == 30 and rows <= {tuple(image.ravel()) for image in target}
    assert not np.array_equal(drawn, random_target_images(target, 30, seed=1))


def test_nearest_target_images_match_a_brute_force_search():
    rng = np.random.default_rng(4)
    inputs, target = rng.integers(0, 256, (7, 5, 5)).astype(np.uint8), rng.integers(0, 256, (40, 5, 5)).astype(np.uint8)
    expected = [target[np.argmin([np.sum((x.astype(float) - t) ** 2) for t in target])] for x in inputs]
    np.testing.assert_array_equal(nearest_target_images(inputs, target, chunk=3), np.stack(expected))
    np.testing.assert_array_equal(nearest_target_images(target[:6], target), target[:6])  # itself first
