"""The judge: trained once and cached, accurate, and the same network in both frameworks."""

import numpy as np
import pytest

from torchflow import judge as judge_module
from torchflow.data import load_images
from torchflow.judge import Judge, as_batch, frechet_distance

# the book's judge (3,000 steps) and the smoke budget's own (400 steps: about 82 % on the embedded subset)
ACCURACY = {judge_module.STEPS: 0.85, judge_module.SMOKE_STEPS: 0.78}


@pytest.fixture(scope="module")
def judge():
    return Judge.load("fashion-mnist")


@pytest.fixture(scope="module")
def test_set():
    return load_images("fashion-mnist", "test").take(2000)


def test_judge_is_accurate(judge, test_set):
    steps = judge_module.recipe_steps()
    assert f"({steps} steps of" in judge.trained_on
    assert judge.test_accuracy >= ACCURACY[steps], judge.trained_on
    accuracy = (judge.predict(test_set.images) == test_set.labels).mean()
    assert accuracy >= ACCURACY[steps]


def test_the_smoke_judge_is_cached_apart_from_the_books(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHFLOW_DATA", str(tmp_path))
    book, smoke = (judge_module.cache_path("fashion-mnist", True, steps)
                   for steps in (judge_module.recipe_steps("cpu"), judge_module.recipe_steps("smoke")))
    assert book == tmp_path / "judge" / "fashion-mnist-subset-v2.npz"  # the name every cached book judge has
    assert smoke == tmp_path / "judge" / "fashion-mnist-subset-v2-400-steps.npz"
    assert judge_module.recipe_steps("full") == judge_module.STEPS


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


def test_quality_computed_once_per_set_matches_a_judge_that_kept_nothing(judge, test_set):
    """quality() keeps the features of each image set, the floor's scores and the reference's nearest-training
    distance by content: every score must equal that of a fresh judge, and a set changed in place is rescored."""
    import dataclasses

    images = (test_set.images / np.float32(255)).astype(np.float32)
    b = min(200, len(images) // 10)  # the embedded test subset is smaller than 2,000 images
    reference, other_real, train = images[:b], images[b : 2 * b], images[2 * b : 7 * b]
    samples = [images[7 * b : 8 * b], np.clip(images[8 * b : 9 * b] + 0.3, 0, 1), images[9 * b : 10 * b][:, ::-1]]

    def fresh():
        return dataclasses.replace(judge, _scored={}, _known={})

    keeping = fresh()
    for batch in samples + samples[:1]:  # the last: a set scored before
        kept, alone = keeping.quality(batch, reference, train, other_real), fresh().quality(batch, reference, train,
                                                                                            other_real)
        assert kept.keys() == alone.keys()
        for key in kept:
            np.testing.assert_array_equal(kept[key], alone[key], err_msg=key)
    assert len(keeping._known) == 2  # one floor, one reference median, for all four calls
    other_floor = images[7 * b : 8 * b]  # another floor set: its own floor scores
    assert keeping.quality(samples[1], reference, train, other_floor)["floor kid"] == fresh().quality(
        samples[1], reference, train, other_floor)["floor kid"] != kept["floor kid"]
    changed = samples[0].copy()
    before = keeping.quality(changed, reference, train, other_real)["kid"]
    changed[:] = samples[1]  # the same array object, new content
    assert keeping.quality(changed, reference, train, other_real)["kid"] == fresh().quality(
        samples[1], reference, train, other_real)["kid"] != before
