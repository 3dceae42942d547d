"""The VAE pages' likelihood baseline (:mod:`torchflow.baselines.pixels`) against brute force.

Every binary image of a few pixels is enumerated, so the expectation over the binarisation
``b ~ Bernoulli(x)`` and the mixture over classes are sums, not formulas.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from torchflow.baselines.pixels import bernoulli_nll, bernoulli_pixels

PIXELS = 3


def _binary_images() -> np.ndarray:
    return np.array(list(itertools.product((0.0, 1.0), repeat=PIXELS)))


def test_probabilities_are_smoothed_frequencies_per_class_and_priors_the_class_shares():
    images = np.array([[1.0, 0.0, 0.5], [1.0, 1.0, 0.5], [0.0, 0.0, 0.0]])
    labels = np.array([4, 4, 7])
    probabilities, priors = bernoulli_pixels(images, labels, smoothing=1.0)
    np.testing.assert_allclose(probabilities, [[3 / 4, 2 / 4, 2 / 4], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(priors, [2 / 3, 1 / 3])
    pooled, one = bernoulli_pixels(images)
    np.testing.assert_allclose(pooled, [[3 / 5, 2 / 5, 2 / 5]])
    assert one.tolist() == [1.0]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bernoulli_pixels(images * 255)


def test_conditional_nll_of_grey_levels_is_the_expectation_over_binary_draws():
    rng = np.random.default_rng(0)
    probabilities = rng.uniform(0.05, 0.95, (2, PIXELS))
    grey = rng.random((4, PIXELS))
    labels = np.array([0, 1, 1, 0])
    got = bernoulli_nll(probabilities, np.array([0.5, 0.5]), grey, labels)
    for x, y, value in zip(grey, labels, got):
        expected = 0.0
        for b in _binary_images():
            chance = np.prod(np.where(b == 1, x, 1 - x))  # P(b | x): the binarisation
            likelihood = np.prod(np.where(b == 1, probabilities[y], 1 - probabilities[y]))
            expected += chance * -np.log(likelihood)
        assert value == pytest.approx(expected, rel=1e-12)


def test_mixture_nll_is_minus_log_of_the_prior_weighted_sum_and_a_distribution():
    rng = np.random.default_rng(1)
    probabilities = rng.uniform(0.05, 0.95, (3, PIXELS))
    priors = np.array([0.2, 0.5, 0.3])
    images = _binary_images()
    got = bernoulli_nll(probabilities, priors, images)
    for b, value in zip(images, got):
        mixture = sum(w * np.prod(np.where(b == 1, p, 1 - p)) for w, p in zip(priors, probabilities))
        assert value == pytest.approx(-np.log(mixture), rel=1e-12)
    assert np.exp(-got).sum() == pytest.approx(1.0)  # a distribution over the 2^3 images
    with pytest.raises(ValueError, match="binary"):
        bernoulli_nll(probabilities, priors, rng.random((2, PIXELS)))


def test_the_class_model_fits_classes_better_than_the_pooled_one():
    """Two classes with opposite pixels: knowing the class is worth about log 2 nats per pixel."""
    images = np.repeat(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), 50, axis=0)
    labels = np.repeat([0, 1], 50)
    by_class = bernoulli_nll(*bernoulli_pixels(images, labels), images, labels).mean()
    pooled = bernoulli_nll(*bernoulli_pixels(images), images).mean()
    assert by_class < 0.1 and pooled == pytest.approx(PIXELS * np.log(2), rel=0.01)
