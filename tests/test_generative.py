"""The generative pages' scoring plumbing: which sets are scored, as what kind, and what is recorded."""

from __future__ import annotations

import numpy as np
import pytest

from torchflow.generative import KID, MEMORY, PRECISION, RECALL, contenders, record_baselines, score
from torchflow.run import Run


class MeanJudge:
    """A stand-in judge whose "KID" is the squared distance between set means and whose other scores are
    fixed by the set's mean brightness: enough to see which set each recorded number came from."""

    def quality(self, samples, reference, train, other_real=None):
        size = min(len(samples), len(reference), *([] if other_real is None else [len(other_real)]))

        def scores(images):
            gap = float(np.mean(images[:size], dtype=np.float64) - np.mean(reference[:size], dtype=np.float64))
            return {"kid": gap**2, "kid standard error": 0.01, "precision": 0.5, "recall": 0.25,
                    "memorisation ratio": 1.0 + gap, "frechet": abs(gap)}

        result = {"size": size, **scores(samples), "class histogram": np.full(10, 0.1)}
        if other_real is not None:
            result.update({f"floor {k}": v for k, v in scores(other_real).items()})
        return result


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 30)
    train = rng.integers(0, 256, size=(300, 1, 4, 4)).astype(np.uint8)
    return train, labels


def test_contenders_are_the_copies_the_prototypes_and_the_gaussian_each_of_the_asked_size(images):
    train, labels = images
    found = contenders(train, labels, count=60, seed=1)
    assert {name: kind for name, (_, kind) in found.items()} == {
        "50 training images, copied": "copy", "60 training images, copied": "copy",
        "class prototypes": "copy", "diagonal Gaussian per class": "model"}
    assert all(len(images) == 60 and images.dtype == np.uint8 for images, _ in found.values())
    few = found["50 training images, copied"][0]
    assert len(np.unique(few.reshape(60, -1), axis=0)) <= 50  # copies of 50 images only
    distinct = found["60 training images, copied"][0]
    assert len(np.unique(distinct.reshape(60, -1), axis=0)) == 60
    train_rows = {row.tobytes() for row in train.reshape(300, -1)}
    assert all(row.tobytes() in train_rows for row in distinct.reshape(60, -1))
    with pytest.raises(ValueError, match="distinct copies"):
        contenders(train[:40], labels[:40], count=60)


def test_record_baselines_records_each_set_once_per_metric_and_memorisation_for_copies_only(images):
    train, labels = images
    reference, other_real = train[:60] // 2, train[60:120]
    run = Run("demo", budget="cpu")
    found = record_baselines(run, MeanJudge(), train, labels, reference, other_real, seed=0)
    kinds = {(b.name, b.metric): b.kind for b in run.baselines}
    assert kinds[("diagonal Gaussian per class", KID)] == "model"
    assert ("diagonal Gaussian per class", MEMORY) not in kinds  # a ratio above 1 is not better than 1
    assert kinds[("class prototypes", MEMORY)] == "copy"
    assert {kinds[("60 more real test images", m)] for m in (KID, PRECISION, RECALL, MEMORY)} == {"floor"}
    assert len(run.baselines) == 5 * 4 - 1  # four contenders and the floor, four metrics each
    # each recorded KID is the stand-in judge's score of that very set
    for name, entry in found.items():
        if entry["kind"] != "floor":
            recorded = next(b for b in run.baselines if b.metric == KID and b.name == name)
            expected = (entry["images"].mean(dtype=np.float64) - reference.mean(dtype=np.float64)) ** 2
            assert recorded.value == pytest.approx(expected)
    floor = next(b for b in run.baselines if b.kind == "floor" and b.metric == KID)
    assert floor.value == pytest.approx((other_real.mean(dtype=np.float64) - reference.mean(dtype=np.float64)) ** 2)
    values, noise, _ = score(MeanJudge(), other_real, reference, train)
    assert values[KID] == pytest.approx(floor.value) and noise[PRECISION] == pytest.approx((0.25 / 60) ** 0.5)


class LookupJudge:
    """Predicts the class written in each image's first pixel."""

    def predict(self, images):
        return np.asarray(images).reshape(len(images), -1)[:, 0].astype(int)


def test_requested_class_accuracy_counts_hits_per_requested_class_beside_the_real_ceiling():
    from torchflow.generative import requested_class_accuracy

    requested = np.array([0, 0, 1, 1, 1, 2])
    made = np.array([0, 1, 1, 1, 0, 2]).reshape(6, 1, 1, 1)  # hits: 1 of 2, 2 of 3, 1 of 1
    real_labels = np.array([0, 1, 2, 2])
    real = np.array([0, 1, 2, 0]).reshape(4, 1, 1, 1)  # the judge gets one real 2 wrong
    found = requested_class_accuracy(LookupJudge(), made, requested, real, real_labels, num_classes=4)
    assert found["overall"] == pytest.approx(4 / 6) and found["real overall"] == pytest.approx(3 / 4)
    np.testing.assert_allclose(found["per class"], [0.5, 2 / 3, 1.0, np.nan])
    np.testing.assert_allclose(found["real per class"], [1.0, 1.0, 0.5, np.nan])
    assert found["count"].tolist() == [2, 3, 1, 0]
    with pytest.raises(ValueError, match="requests"):
        requested_class_accuracy(LookupJudge(), made, requested[:5], real, real_labels)


def test_requested_class_accuracy_groups_the_hits_by_the_requested_class_not_the_judged_one():
    from torchflow.generative import requested_class_accuracy

    requested = np.array([0, 0, 1, 1])
    made = np.array([1, 1, 1, 0]).reshape(4, 1, 1, 1)  # one hit, a requested 1 judged as 1
    found = requested_class_accuracy(LookupJudge(), made, requested, made, requested, num_classes=2)
    np.testing.assert_allclose(found["per class"], [0.0, 0.5])  # by judged class it would read [0, 1/3]
    assert found["count"].tolist() == [2, 2]


def test_findings_list_each_twin_with_noise_then_misses_then_what_was_not_measured(images):
    from torchflow.generative import findings

    train, labels = images
    run = Run("demo", budget="cpu")
    run.expect(KID, below_baseline_by=0.0)
    run.expect(PRECISION, at_least=0.5)
    run.expect(RECALL, at_least=0.1)
    run.expect(MEMORY, at_least=0.8)
    run.expect("extra", at_least=0.5)
    found = record_baselines(run, MeanJudge(), train, labels, train[:60] // 2, train[60:120], seed=0)
    gaussian = run.strongest_baseline(KID)
    run.record("torch", {KID: gaussian.value / 2, PRECISION: 0.7, RECALL: 0.2, MEMORY: 1.1, "extra": 0.25},
               noise={KID: 0.001, PRECISION: 0.01, RECALL: 0.02, "extra": 0.05})
    lines = findings(run, 1_000, full_steps=30_000, copies=found, after={"the extra": ("extra", "{:.0%}")})
    text = "\n".join(lines)
    twin = " ".join(next(line for line in lines if line.startswith("PyTorch: ")).split())  # unwrapped
    assert f"KID {gaussian.value / 2:.3f} ± 0.001 (below the {gaussian.name}'s {gaussian.value:.3f})" in twin
    assert "precision 0.700 ± 0.010, recall 0.200 ± 0.020, memorisation ratio 1.10, the extra 25% ± 5%" in twin
    assert "Missed at 'cpu' (1,000 steps): " in text and "extra" in " ".join(text.split("Missed at")[1].split())
    assert lines[-1] == "What the 'full' budget (30,000 steps) reaches was not measured for this build."
    # each copy of training data with the quality targets it fails ('extra' is no quality score); the stand-in
    # judge gives the 60 distinct copies the floor's own scores, so they fail none, and the page says so
    assert [line for line in lines if ": fails " in line] == [
        "50 training images, copied: fails KID (judge features)", "60 training images, copied: fails NO quality target",
        "class prototypes: fails KID (judge features)"]
    assert all(len(line) <= 88 for line in text.splitlines())
    # nothing missed, nothing below a baseline: no closing sentence; the smoke budget never adds one
    calm = Run("demo", budget="smoke")
    calm.record("torch", {KID: 0.1, PRECISION: 0.7, RECALL: 0.2, MEMORY: 1.0})
    assert findings(calm, 10, closing="never") == ["PyTorch: KID 0.100, precision 0.700, recall 0.200, "
                                                  "memorisation ratio 1.00"]
