"""The cheap baselines: the Kneser-Ney character n-gram model against hand computations and closed forms,
and the generative non-models (copies, prototypes, a diagonal Gaussian)."""

import itertools
from collections import Counter

import numpy as np
import pytest

from torchflow.baselines import CharNgram, choose_order, class_prototypes, diagonal_gaussian, training_copies


def test_ngram_matches_a_hand_computation():
    """train 'abab b' = [0, 1, 0, 1, 1], V = 2, order 2, D = 1/2.

    Unigram continuation counts (distinct bigrams 01, 10, 11 by their last character): a(0) = 1, a(1) = 2,
    so P1(0) = (1 - 1/2)/3 + (1/2)(2/3)(1/2) = 1/3 and P1(1) = 2/3. Bigram counts: 01: 2, 10: 1, 11: 1, so
    P(1|0) = (2 - 1/2)/2 + (1/2)(1/2) P1(1) = 11/12, P(1|1) = 1/4 + (1/2) P1(1) = 7/12, P(0|1) = 5/12."""
    model = CharNgram(discount=0.5).fit(np.array([0, 1, 0, 1, 1]), vocab_size=2, order=2)
    np.testing.assert_allclose(model.distribution([]), [1 / 3, 2 / 3])
    np.testing.assert_allclose(model.distribution([0]), [1 / 12, 11 / 12])
    np.testing.assert_allclose(model.distribution([1]), [5 / 12, 7 / 12])
    expected = np.log2([1 / 3, 11 / 12, 7 / 12, 5 / 12])  # the first character has no context: P1
    np.testing.assert_allclose(model.log2_probabilities(np.array([0, 1, 1, 0])), expected)
    assert model.bits_per_char(np.array([0, 1, 1, 0])) == pytest.approx(-expected.mean())


def _kneser_ney_by_dictionaries(train: list[int], vocab_size: int, order: int):
    """Interpolated Kneser-Ney written from its definition with tuples and dictionaries: P(n, h, w)."""
    grams = {n: Counter(tuple(train[i : i + n]) for i in range(len(train) - n + 1)) for n in range(1, order + 2)}
    tables = {order: dict(grams[order])}
    for n in range(1, order):  # continuation counts: distinct characters seen before the n-gram
        tables[n] = dict(Counter(gram[1:] for gram in grams[n + 1]))
    discounts = {}
    for n, table in tables.items():
        once, twice = sum(c == 1 for c in table.values()), sum(c == 2 for c in table.values())
        discounts[n] = min(max(once / (once + 2 * twice) if once else 0.0, 0.05), 0.95)

    def probability(n, history, w):
        if n == 0:
            return 1 / vocab_size
        followers = {g[-1]: c for g, c in tables[n].items() if g[:-1] == history}
        lower = probability(n - 1, history[1:], w)
        if not followers:
            return lower
        total, d = sum(followers.values()), discounts[n]
        return (max(followers.get(w, 0) - d, 0) + d * len(followers) * lower) / total

    return probability


def test_ngram_matches_the_definition_written_with_dictionaries():
    rng = np.random.default_rng(3)
    train = np.concatenate([np.tile([0, 1, 2, 2], 30), rng.integers(0, 4, 200)])
    for order in (1, 2, 3):
        model = CharNgram().fit(train, vocab_size=4, order=order)
        reference = _kneser_ney_by_dictionaries(train.tolist(), 4, order)
        for length in range(order):
            for context in itertools.product(range(4), repeat=length):
                expected = [reference(length + 1, context, w) for w in range(4)]
                np.testing.assert_allclose(model.distribution(context), expected, rtol=1e-12, err_msg=str(context))


def test_ngram_discounts_follow_ney_estimate():
    """D = n1 / (n1 + 2 n2): unigram continuation counts (1, 2) give 1/3; bigram counts (2, 1, 1) give 1/2."""
    model = CharNgram().fit(np.array([0, 1, 0, 1, 1]), vocab_size=2, order=2)
    assert [table.discount for table in model.orders] == pytest.approx([1 / 3, 1 / 2])


@pytest.mark.parametrize("discount", [None, 0.1, 0.9, 1.0])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_ngram_distributions_sum_to_one_after_every_context(order, discount):
    """Every context of every length on a 3-letter alphabet, seen or not in a skewed training text."""
    rng = np.random.default_rng(order)
    train = np.concatenate([np.tile([0, 0, 1], 40), rng.integers(0, 3, 30)])
    model = CharNgram(discount).fit(train, vocab_size=3, order=order)
    for length in range(order):
        for context in itertools.product(range(3), repeat=length):
            distribution = model.distribution(context)
            assert distribution.sum() == pytest.approx(1.0, abs=1e-12), context
            assert (distribution > 0).all(), context


def test_ngram_scores_a_stream_by_its_own_contexts():
    rng = np.random.default_rng(0)
    train, test = rng.integers(0, 4, 500), rng.integers(0, 4, 50)
    model = CharNgram().fit(train, 4, 3)
    expected = [np.log2(model.distribution(test[max(0, i - 2) : i])[test[i]]) for i in range(len(test))]
    np.testing.assert_allclose(model.log2_probabilities(test), expected)


def test_ngram_of_order_one_without_discount_is_the_unigram_entropy():
    rng = np.random.default_rng(1)
    text = rng.choice(5, size=2000, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    p = np.bincount(text, minlength=5) / len(text)
    model = CharNgram(discount=0).fit(text, 5, order=1)
    assert model.bits_per_char(text) == pytest.approx(-(p * np.log2(p)).sum(), rel=1e-12)


def test_ngram_learns_a_deterministic_pattern():
    text = np.tile([0, 1, 2], 1000)  # "abcabc..."
    assert CharNgram().fit(text, 3, 1).bits_per_char(text[:300]) == pytest.approx(np.log2(3), abs=0.01)
    for order in (2, 3, 4):
        assert CharNgram().fit(text, 3, order).bits_per_char(text[:300]) < 0.02, order


def test_choose_order_finds_the_order_of_a_markov_source():
    """A second-order Markov source (each character depends on the two before it): order 3 beats order 2."""
    rng = np.random.default_rng(2)
    table = rng.dirichlet(np.full(4, 0.2), size=(4, 4))
    text = [0, 1]
    for _ in range(30_000):
        text.append(rng.choice(4, p=table[text[-2], text[-1]]))
    text = np.array(text)
    best, scores = choose_order(text[:25_000], text[25_000:], 4, orders=(1, 2, 3, 4))
    assert best == min(scores, key=scores.get)
    assert best >= 3 and scores[2] > scores[3] + 0.1, scores


def test_ngram_rejects_bad_input():
    with pytest.raises(ValueError, match="lie in"):
        CharNgram().fit(np.array([0, 5]), vocab_size=3, order=1)
    model = CharNgram().fit(np.array([0, 1, 2]), vocab_size=3, order=2)
    with pytest.raises(ValueError, match="lie in"):
        model.bits_per_char(np.array([3]))
    with pytest.raises(ValueError, match="64-bit"):
        CharNgram().fit(np.arange(20), vocab_size=100, order=10)


# ---------------------------------------------------------------------------------------------------- generative
def _labelled_images(seed: int = 0, count: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, count)
    images = rng.integers(0, 256, (count, 4, 5)).astype(np.uint8)
    images[labels == 1] //= 4  # classes of different brightness
    return images, labels


def test_training_copies_are_training_images_with_repeats():
    images, _ = _labelled_images()
    copies, index = training_copies(images[:20], 200, seed=1)
    assert copies.shape == (200, 4, 5) and copies.dtype == np.uint8
    np.testing.assert_array_equal(copies, images[:20][index])
    assert index.min() >= 0 and index.max() < 20 and len(np.unique(index)) < 200  # repeats
    np.testing.assert_array_equal(training_copies(images[:20], 200, seed=1)[0], copies)  # the seed decides


def test_class_prototypes_are_class_means_cycled():
    rng = np.random.default_rng(2)
    labels = np.array([2, 0, 2, 5, 0, 2])
    images = rng.random((6, 3, 3))
    prototypes, classes = class_prototypes(images, labels, 7)
    assert classes.tolist() == [0, 2, 5, 0, 2, 5, 0]
    np.testing.assert_allclose(prototypes[1], (images[0] + images[2] + images[5]) / 3)
    np.testing.assert_allclose(prototypes[0], (images[1] + images[4]) / 2)
    np.testing.assert_allclose(prototypes[5], images[3])
    # uint8 images: the mean, rounded, still uint8
    images, labels = _labelled_images()
    prototypes, classes = class_prototypes(images, labels, 30)
    assert prototypes.dtype == np.uint8 and prototypes.shape == (30, 4, 5)
    for image, c in zip(prototypes, classes):
        assert np.abs(image - images[labels == c].mean(0)).max() <= 0.5


def test_diagonal_gaussian_has_the_class_moments():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 4000)
    means = np.array([[0.3, 0.5, 0.6], [0.55, 0.4, 0.5]])
    stds = np.array([[0.05, 0.02, 0.08], [0.03, 0.06, 0.01]])
    images = means[labels] + stds[labels] * rng.standard_normal((4000, 3))  # far from the clipping range
    samples, sampled = diagonal_gaussian(images, labels, 20_000, seed=4)
    assert samples.shape == (20_000, 3) and samples.dtype == images.dtype
    assert abs(np.mean(sampled == 1) - np.mean(labels == 1)) < 0.02  # labels by the training frequencies
    for c in (0, 1):
        rows = samples[sampled == c]
        data = images[labels == c]
        error = data.std(0) / np.sqrt(len(rows))
        assert (np.abs(rows.mean(0) - data.mean(0)) < 5 * error).all()
        np.testing.assert_allclose(rows.std(0), data.std(0), rtol=0.05)
        assert abs(np.corrcoef(rows[:, 0], rows[:, 1])[0, 1]) < 0.05  # pixels drawn independently


def test_diagonal_gaussian_stays_in_the_image_range_and_takes_requested_labels():
    images, labels = _labelled_images()
    requested = np.array([1, 1, 0, 2] * 50)
    samples, sampled = diagonal_gaussian(images, labels, 200, seed=5, requested=requested)
    assert samples.dtype == np.uint8 and (sampled == requested).all()
    assert samples[sampled == 1].mean() < samples[sampled != 1].mean()  # the dark class stays dark
    floats = images / 255.0
    samples, _ = diagonal_gaussian(floats, labels, 500, seed=6)
    assert samples.min() >= floats.min() and samples.max() <= floats.max()
    assert (samples == floats.max()).any()  # wide classes do reach the clip
    with pytest.raises(ValueError, match="requested"):
        diagonal_gaussian(images, labels, 3, requested=np.array([0, 1, 7]))
