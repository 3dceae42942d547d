"""The judge: trained once and cached, accurate, and the same network in both frameworks."""

import numpy as np
import pytest

from torchflow.data import load_images
from torchflow.judge import Judge, as_batch, frechet_distance


@pytest.fixture(scope="module")
def judge():
    return Judge.load("fashion-mnist")


@pytest.fixture(scope="module")
def test_set():
    return load_images("fashion-mnist", "test").take(2000)


def test_judge_is_accurate(judge, test_set):
    assert judge.test_accuracy >= 0.85, judge.trained_on
    accuracy = (judge.predict(test_set.images) == test_set.labels).mean()
    assert accuracy >= 0.85


def test_judge_is_the_same_network_in_both_frameworks(judge, test_set, monkeypatch):
    images = test_set.images[:200]
    monkeypatch.setenv("TORCHFLOW_FRAMEWORKS", "torch")
    torch_logits = judge._forward(images)[1]
    monkeypatch.setenv("TORCHFLOW_FRAMEWORKS", "tensorflow")
    tf_logits = judge._forward(images)[1]
    np.testing.assert_allclose(torch_logits, tf_logits, rtol=1e-4, atol=1e-4)


def test_judge_is_cached(judge):
    again = Judge.load("fashion-mnist")
    assert again.trained_on == judge.trained_on
    for name, weight in judge.weights.items():
        np.testing.assert_array_equal(weight, again.weights[name])


def test_judge_rejects_images_out_of_range():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        as_batch(np.full((2, 784), 3.0))


def test_frechet_distance():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shifted = frechet_distance(a, a + np.array([2.0, 0, 0]))
    assert shifted == pytest.approx(4.0, rel=1e-6)
    scaled = frechet_distance(a, 3 * a)  # (1 - 3)^2 per dimension for unit covariances
    assert scaled == pytest.approx(12.0, rel=0.05)
