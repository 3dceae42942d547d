"""torchflow.metrics against independent computations: hand-computed values, closed forms and plain-loop
re-implementations."""

import itertools
import math

import numpy as np
import pytest

from torchflow.metrics import (
    class_histogram,
    confusion_matrix,
    corpus_bleu,
    frechet_distance,
    frechet_distance_equal_size,
    kernel_inception_distance,
    kid_half_sampling,
    matching_accuracy,
    mean_standard_error,
    median_nearest_distance,
    memorisation_ratio,
    neighbour_agreement,
    ngram_bits_per_char,
    per_class_accuracy,
    precision_recall,
    proportion_standard_error,
)


# ---------------------------------------------------------------------------------------------------- noise
def test_proportion_standard_error_by_hand_and_by_simulation():
    assert proportion_standard_error(0.5, 100) == pytest.approx(0.05)
    assert proportion_standard_error(0.9, 400) == pytest.approx(0.015)
    assert proportion_standard_error(1.0, 10) == 0.0
    rng = np.random.default_rng(0)
    proportions = rng.binomial(250, 0.3, size=20_000) / 250
    assert proportion_standard_error(0.3, 250) == pytest.approx(proportions.std(), rel=0.03)
    with pytest.raises(ValueError):
        proportion_standard_error(0.5, 0)


def test_mean_standard_error_by_hand():
    # mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, sample variance 5/3, over sqrt(4)
    assert mean_standard_error([1.0, 2.0, 3.0, 4.0]) == pytest.approx(math.sqrt(5 / 3) / 2)
    assert mean_standard_error([7.0, 7.0, 7.0]) == 0.0
    with pytest.raises(ValueError, match="two values"):
        mean_standard_error([1.0])


# ---------------------------------------------------------------------------------------------------- Fréchet
def _exact_gaussian_sample(mean: np.ndarray, variances: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` points whose sample mean is ``mean`` and whose sample covariance (ddof 1) is diag(variances):
    orthonormal columns orthogonal to the constant vector, scaled."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(np.column_stack([np.ones(count), rng.standard_normal((count, len(mean)))]))
    return basis[:, 1:] * np.sqrt((count - 1) * variances) + mean


def test_frechet_distance_of_diagonal_gaussians_has_its_closed_form():
    m1, m2 = np.array([0.0, 1.0, -2.0, 0.5]), np.array([1.0, -1.0, 0.0, 0.5])
    s1, s2 = np.array([1.0, 4.0, 0.25, 2.0]), np.array([9.0, 1.0, 0.25, 0.5])
    expected = ((m1 - m2) ** 2).sum() + (s1 + s2 - 2 * np.sqrt(s1 * s2)).sum()
    a, b = _exact_gaussian_sample(m1, s1, 300, 0), _exact_gaussian_sample(m2, s2, 300, 1)
    np.testing.assert_allclose(np.cov(a, rowvar=False), np.diag(s1), atol=1e-12)  # the construction holds
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    # a rotation of both sets changes neither the distance nor its closed form
    rotation, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((4, 4)))
    assert frechet_distance(a @ rotation, b @ rotation) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_is_the_one_judge_exports():
    from torchflow import judge

    assert judge.frechet_distance is frechet_distance


def test_frechet_distance_refuses_sets_of_different_sizes():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((200, 3)), rng.standard_normal((100, 3))
    with pytest.raises(ValueError, match="set size"):
        frechet_distance_equal_size(a, b)
    assert frechet_distance_equal_size(a, b, allow_unequal=True) == frechet_distance(a, b)
    assert frechet_distance_equal_size(a[:100], b) == frechet_distance(a[:100], b)
    # why: the same distribution scores a larger distance at a smaller size
    big = frechet_distance(rng.standard_normal((2000, 3)), rng.standard_normal((2000, 3)))
    small = np.mean([frechet_distance(rng.standard_normal((50, 3)), rng.standard_normal((50, 3))) for _ in range(20)])
    assert small > 5 * big


# ---------------------------------------------------------------------------------------------------- KID
def _kid_by_loops(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased MMD^2 written out term by term, k(a, b) = (a.b / d + 1)^3."""
    m, d = len(x), x.shape[1]

    def k(a, b):
        return (sum(float(p) * float(q) for p, q in zip(a, b)) / d + 1) ** 3

    same_x = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    same_y = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    cross = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return same_x + same_y - 2 * cross


@pytest.mark.parametrize("whole_kernel", [True, False], ids=["kernels-of-the-whole-sets", "a-kernel-per-subset"])
def test_kid_matches_the_loops_on_small_sets(whole_kernel, monkeypatch):
    """Both ways of computing the subsets' MMD^2 (torchflow.metrics._WHOLE_KERNEL_ITEMS picks one by set size)."""
    import torchflow.metrics

    monkeypatch.setattr(torchflow.metrics, "_WHOLE_KERNEL_ITEMS", 10**9 if whole_kernel else 0)
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((12, 5)), rng.standard_normal((12, 5)) * 1.5 + 0.3
    # one subset of all items: a permutation of each set, which MMD does not see
    mean, _ = kernel_inception_distance(x, y, subsets=1, subset_size=12)
    assert mean == pytest.approx(_kid_by_loops(x, y), rel=1e-10)
    # larger subsets than the sets: all items are used
    mean, error = kernel_inception_distance(x, y, subsets=3, subset_size=100)
    assert mean == pytest.approx(_kid_by_loops(x, y), rel=1e-10) and error == pytest.approx(0, abs=1e-12)
    # disjoint blocks: the mean and standard error of the blocks' own MMD^2, whichever items they hold
    x, y = rng.standard_normal((40, 5)), rng.standard_normal((40, 5)) + 0.2
    mean, error = kernel_inception_distance(x, y, subsets=4, subset_size=10, seed=1, disjoint=True)
    shuffle = np.random.default_rng(1)  # one shuffle of each set, the second after the first
    order_x, order_y = shuffle.permutation(40), shuffle.permutation(40)
    blocks = [_kid_by_loops(x[order_x[i * 10 : i * 10 + 10]], y[order_y[i * 10 : i * 10 + 10]]) for i in range(4)]
    assert mean == pytest.approx(np.mean(blocks)) and error == pytest.approx(np.std(blocks, ddof=1) / 2)
    with pytest.raises(ValueError, match="disjoint"):
        kernel_inception_distance(x, y, subsets=5, subset_size=10, disjoint=True)
    # random subsets that overlap, as kid_half_sampling draws them; sets of unequal sizes
    x = rng.standard_normal((30, 5))
    mean, error = kernel_inception_distance(x, y, subsets=6, subset_size=9, seed=2)
    draw = np.random.default_rng(2)
    blocks = [(draw.choice(30, 9, replace=False), draw.choice(40, 9, replace=False)) for _ in range(6)]
    values = [_kid_by_loops(x[a], y[b]) for a, b in blocks]
    assert mean == pytest.approx(np.mean(values), rel=1e-9)
    assert error == pytest.approx(np.std(values, ddof=1) / np.sqrt(6), rel=1e-9)


def test_kid_is_unbiased_for_one_distribution_and_positive_for_a_shift():
    rng = np.random.default_rng(5)
    values = [kernel_inception_distance(rng.standard_normal((60, 4)), rng.standard_normal((60, 4)),
                                        subsets=1, subset_size=60)[0] for _ in range(300)]
    spread = np.std(values) / np.sqrt(len(values))
    assert abs(np.mean(values)) < 3 * spread  # unbiased: centred on 0 even for 60 items
    assert min(values) < 0  # so single values can be negative
    a, b = rng.standard_normal((1000, 4)), rng.standard_normal((1000, 4))
    same, same_error = kernel_inception_distance(a, b, subsets=10, subset_size=200)
    shifted, shifted_error = kernel_inception_distance(a, b + 0.5, subsets=10, subset_size=200)
    assert abs(same) < 4 * same_error + 1e-3
    assert shifted > 10 * shifted_error and shifted > 20 * abs(same)


def test_kid_half_sampling_error_matches_the_spread_of_fresh_draws():
    """Against a fixed reference, the error of one set's KID is the spread of KID over fresh sets of that size."""
    rng = np.random.default_rng(12)
    reference = rng.standard_normal((200, 4))
    for shift, low, high in ((0.0, 1.0, 2.8), (0.4, 0.85, 1.3)):  # agreeing: up to sqrt(3) too large
        fresh = [kernel_inception_distance(rng.standard_normal((200, 4)) + shift, reference, subsets=1,
                                           subset_size=200)[0] for _ in range(150)]
        sample = rng.standard_normal((200, 4)) + shift
        mean, error = kid_half_sampling(sample, reference, draws=100)
        full = kernel_inception_distance(sample, reference, subsets=1, subset_size=200)[0]
        assert mean == pytest.approx(full, abs=0.3 * np.std(fresh))  # the half sets average to the whole
        assert low * np.std(fresh) < error < high * np.std(fresh), (shift, error, np.std(fresh))
    with pytest.raises(ValueError, match="one size"):
        kid_half_sampling(reference, reference[:100])


# ---------------------------------------------------------------------------------------------------- precision, recall
def _precision_recall_by_loops(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    def radius(points, i):
        return sorted(math.dist(points[i], points[j]) for j in range(len(points)) if j != i)[k - 1]

    def share_inside(points, centres):
        radii = [radius(centres, j) for j in range(len(centres))]
        return np.mean([any(math.dist(p, c) <= r for c, r in zip(centres, radii)) for p in points])

    return share_inside(fake, real), share_inside(real, fake)


def test_precision_recall_match_the_loops():
    rng = np.random.default_rng(6)
    for k in (1, 3, 5):
        real = rng.standard_normal((40, 3))
        fake = rng.standard_normal((30, 3)) * 0.6 + np.array([0.8, 0.0, 0.0])  # narrower and shifted
        got = precision_recall(real, fake, k=k)
        expected = _precision_recall_by_loops(real, fake, k)
        assert got == pytest.approx(expected), k
        assert 0 < got[1] < got[0] <= 1  # narrow fakes: realistic more often than covering


def test_precision_recall_see_identity_copies_and_disjoint_sets():
    rng = np.random.default_rng(7)
    real = rng.standard_normal((300, 6))
    assert precision_recall(real, real.copy()) == (1.0, 1.0)
    precision, recall = precision_recall(real, np.repeat(real[:1], 300, axis=0))  # one real point, copied
    assert precision == 1.0 and recall < 0.01
    assert precision_recall(real, rng.standard_normal((300, 6)) + 100.0) == (0.0, 0.0)


# ---------------------------------------------------------------------------------------------------- memorisation
def test_memorisation_ratio_sees_copies_and_not_new_draws():
    rng = np.random.default_rng(8)
    train, test = rng.standard_normal((3000, 8)), rng.standard_normal((500, 8))
    assert memorisation_ratio(train[:500], train, test) == 0.0
    assert memorisation_ratio(rng.standard_normal((500, 8)), train, test) == pytest.approx(1.0, abs=0.08)
    # a few samples far away move a median little (a mean would be ruled by them)
    with_outliers = np.concatenate([rng.standard_normal((475, 8)), np.full((25, 8), 1000.0)])
    assert memorisation_ratio(with_outliers, train, test) == pytest.approx(1.0, abs=0.15)


def test_memorisation_ratio_by_loops():
    rng = np.random.default_rng(9)
    train, test, samples = rng.random((30, 3)), rng.random((11, 3)), rng.random((9, 3)) * 2

    def median_nearest(points):
        return np.median([min(math.dist(p, t) for t in train) for p in points])

    assert memorisation_ratio(samples, train, test) == pytest.approx(median_nearest(samples) / median_nearest(test))
    assert median_nearest_distance(test, train) == pytest.approx(median_nearest(test))
    # the judge passes the test median it computed once: the same ratio, and a different one gives its own
    given = memorisation_ratio(samples, train, test, test_median=median_nearest(test))
    assert given == pytest.approx(median_nearest(samples) / median_nearest(test))
    assert memorisation_ratio(samples, train, test, test_median=1.0) == pytest.approx(median_nearest(samples))


# ---------------------------------------------------------------------------------------------------- histogram
def test_class_histogram_by_hand():
    np.testing.assert_allclose(class_histogram(np.array([0, 2, 2, 3]), 5), [0.25, 0, 0.5, 0.25, 0])
    shares = class_histogram(np.random.default_rng(10).integers(0, 10, 999), 10)
    assert shares.shape == (10,) and shares.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        class_histogram(np.array([0, 10]), 10)


# ---------------------------------------------------------------------------------------------------- older metrics
def test_neighbour_agreement_by_hand():
    neighbours = np.array([[1, 2], [0, 2], [0, 1]])
    reference = np.array([[2, 1], [2, 3], [3, 4]])  # rows share 2, 1 and 0 of their 2 neighbours
    assert neighbour_agreement(neighbours, reference) == pytest.approx((1 + 0.5 + 0) / 3)
    assert neighbour_agreement(reference, reference) == 1.0
    with pytest.raises(ValueError, match="shapes"):
        neighbour_agreement(neighbours, reference[:, :1])


def test_ngram_bits_per_char_by_hand():
    """train [0, 1, 0, 1, 1]: add-one bigram counts [[1, 3], [2, 2]], unigram counts [3, 4]."""
    train, test = np.array([0, 1, 0, 1, 1]), np.array([0, 1, 1, 0])
    bigram = -(np.log2(3 / 4) + np.log2(2 / 4) + np.log2(2 / 4)) / 3  # pairs 01, 11, 10
    assert ngram_bits_per_char(train, test, 2, order=2) == pytest.approx(bigram)
    unigram = -(2 * np.log2(3 / 7) + 2 * np.log2(4 / 7)) / 4
    assert ngram_bits_per_char(train, test, 2, order=1) == pytest.approx(unigram)


def test_corpus_bleu_by_hand():
    """Clipped n-gram matches summed over the corpus: 1-grams 11/11, 2-grams 8/9, 3-grams 6/7, 4-grams 4/5;
    hypotheses 11 words against references of 13, so the brevity penalty is exp(1 - 13/11)."""
    hypotheses = ["the cat sat on the mat", "a b c d e"]
    references = ["the cat sat on the red mat today", "a b c d e"]
    expected = 100 * math.exp(1 - 13 / 11) * (1 * 8 / 9 * 6 / 7 * 4 / 5) ** 0.25
    assert corpus_bleu(hypotheses, references) == pytest.approx(expected, rel=1e-6)
    assert corpus_bleu(references, references) == pytest.approx(100.0)


def test_confusion_matrix_by_hand():
    matrix = confusion_matrix(np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 2, 1]), 3)
    np.testing.assert_array_equal(matrix, [[1, 0, 0], [0, 1, 1], [0, 0, 2]])  # rows: true classes
    np.testing.assert_allclose(per_class_accuracy(matrix), [1.0, 0.5, 1.0])


def test_matching_accuracy_against_every_permutation():
    rng = np.random.default_rng(11)
    for _ in range(30):  # noisy codes on few items: a greedy argmax often maps two codes to one class
        classes = rng.integers(0, 4, 20)
        codes = np.where(rng.random(20) < 0.3, rng.permutation(4)[classes], rng.integers(0, 4, 20))
        best = max(np.mean(np.array(p)[codes] == classes) for p in itertools.permutations(range(4)))
        accuracy, assignment = matching_accuracy(codes, classes, 4)
        assert sorted(assignment.tolist()) == [0, 1, 2, 3] and accuracy == pytest.approx(best)
        assert np.mean(assignment[codes] == classes) == pytest.approx(best)


# ---------------------------------------------------------------------------------------------------- with the judge
def test_judge_quality_fails_copies_and_prototypes_and_passes_real_images():
    """The cached judge on real Fashion-MNIST (the full data or the embedded subset, whichever is present):
    50 training images repeated to 500, class prototypes and a diagonal Gaussian against 500 real test images,
    with 500 more real test images as the floor. Copies are caught by recall and memorisation, prototypes and
    the Gaussian by recall and KID; real images sit at the floor."""
    from torchflow.baselines import class_prototypes, diagonal_gaussian, training_copies
    from torchflow.data import load_images
    from torchflow.judge import Judge

    train, test = load_images("fashion-mnist", "train"), load_images("fashion-mnist", "test")
    judge = Judge.load("fashion-mnist")
    search = train.images[:5000]  # the training images the memorisation check searches (copies come from them)
    reference, other_real = test.images[:500], test.images[500:1000]
    copies, _ = training_copies(search[:50], 500, seed=0)
    prototypes, _ = class_prototypes(train.images, train.labels, 500)
    gaussian, _ = diagonal_gaussian(train.images, train.labels, 500, seed=0)
    scores = {name: judge.quality(images, reference, search, other_real=other_real)
              for name, images in (("copies", copies), ("prototypes", prototypes), ("gaussian", gaussian))}
    print(train.describe())
    for name, q in scores.items():
        print(name, {key: np.round(value, 3) for key, value in q.items()})
    floor = scores["copies"]
    assert floor["size"] == 500
    # real held-out images: realistic, covering, not memorised, at KID's zero within noise
    assert floor["floor precision"] > 0.7 and floor["floor recall"] > 0.7
    assert 0.8 < floor["floor memorisation ratio"] < 1.25
    assert abs(floor["floor kid"]) < 3 * floor["floor kid standard error"]
    copied = scores["copies"]
    assert copied["memorisation ratio"] < 0.05 and copied["recall"] < 0.2 * floor["floor recall"]
    assert copied["precision"] > 0.5  # each copy is a real image: only coverage and memorisation see them
    for name in ("prototypes", "gaussian"):
        q = scores[name]
        assert q["recall"] < 0.2 * floor["floor recall"], name
        assert q["kid"] > floor["floor kid"] + 3 * (q["kid standard error"] + floor["floor kid standard error"]), name
        assert q["memorisation ratio"] > 1.0, name  # new images, just not realistic ones
    np.testing.assert_allclose(scores["prototypes"]["class histogram"].sum(), 1.0)
