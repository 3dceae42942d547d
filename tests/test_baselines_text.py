"""The text chapters' cheap baselines and metrics, each against an independent computation: the
most-frequent-tag tagger with its suffix lookup, the character n-gram naive Bayes classifier and sampler,
unseen-word accuracy, the judged share and the start-letter chance; and the POS splits' common source."""

from collections import Counter

import numpy as np
import pytest

from torchflow.baselines.char_bayes import CharNgramBayes, CharNgramSampler, char_ngrams, choose_smoothing
from torchflow.baselines.tags import MostFrequentTag, choose_suffix_length
from torchflow.data import pos, store
from torchflow.data.pos import load_pos_splits
from torchflow.metrics import judged_share, start_letter_chance, unseen_word_accuracy

TRAIN_WORDS = [["the", "dog", "runs"], ["the", "dogs", "walked"], ["a", "cat", "talked"], ["run", "!"]]
TRAIN_TAGS = [["DET", "NOUN", "VERB"], ["DET", "NOUN", "VERB"], ["DET", "NOUN", "VERB"], ["VERB", "PUNCT"]]


# ------------------------------------------------------------------ most frequent tag
def test_seen_words_take_their_most_frequent_tag_with_ties_to_the_first_tag():
    model = MostFrequentTag(3).fit([["saw", "saw", "saw", "x"], ["y"]], [["VERB", "NOUN", "VERB", "A"], ["B"]])
    assert model.tag_word("saw") == "VERB"
    tie = MostFrequentTag(3).fit([["can", "can"]], [["VERB", "AUX"]])
    assert tie.tag_word("can") == "AUX"  # 1 each: sorted order decides


def test_unseen_words_take_the_tag_of_their_longest_seen_suffix_then_the_most_frequent_tag():
    model = MostFrequentTag(3).fit(TRAIN_WORDS, TRAIN_TAGS)
    # "dogged" starts like "dog" (NOUN) but ends like "walked"/"talked" ("ked" unseen, "ed": VERB)
    assert model.tag_word("dogged") == "VERB"
    assert model.tag_word("hats") == "NOUN"  # only "s" seen: runs/VERB and dogs/NOUN tie, NOUN sorts first
    assert model.tag_word("zzz") == "VERB"  # no suffix seen: VERB is the most frequent tag (4 of 11)


def _brute_force_tag(word, train_words, train_tags, max_suffix):
    pairs = [(w, t) for s, ts in zip(train_words, train_tags) for w, t in zip(s, ts)]

    def best(tags):
        counts = Counter(tags)
        return sorted(counts, key=lambda t: (-counts[t], t))[0]

    if any(w == word for w, _ in pairs):
        return best(t for w, t in pairs if w == word)
    for k in range(max_suffix, 0, -1):
        if len(word) >= k:
            matching = [t for w, t in pairs if len(w) >= k and w[-k:] == word[-k:]]
            if matching:
                return best(matching)
    return best(t for _, t in pairs)


@pytest.mark.parametrize("max_suffix", [0, 1, 2, 3, 4])
def test_the_tagger_matches_a_brute_force_count_on_random_text(max_suffix):
    rng = np.random.default_rng(max_suffix)
    letters, tags = list("abcde"), ["N", "V", "A", "D"]
    sentences = [["".join(rng.choice(letters, rng.integers(1, 5))) for _ in range(6)] for _ in range(40)]
    sentence_tags = [[str(rng.choice(tags)) for _ in s] for s in sentences]
    model = MostFrequentTag(max_suffix).fit(sentences[:30], sentence_tags[:30])
    for sentence in sentences[30:]:
        for word in sentence:
            assert model.tag_word(word) == _brute_force_tag(word, sentences[:30], sentence_tags[:30], max_suffix)
    overall, unseen, count = model.accuracy(sentences[30:], sentence_tags[30:])
    pairs = [(w, t) for s, ts in zip(sentences[30:], sentence_tags[30:]) for w, t in zip(s, ts)]
    right = [model.tag_word(w) == t for w, t in pairs]
    new = [w not in {v for s in sentences[:30] for v in s} for w, _ in pairs]
    assert overall == pytest.approx(np.mean(right))
    assert count == sum(new) > 0 and unseen == pytest.approx(np.mean([r for r, n in zip(right, new) if n]))


def test_the_suffix_length_is_chosen_on_validation():
    model_scores = {k: MostFrequentTag(k).fit(TRAIN_WORDS, TRAIN_TAGS).accuracy([["hats", "jogged"]],
                                                                                [["NOUN", "VERB"]])[0]
                    for k in (0, 1, 2)}
    chosen, scores = choose_suffix_length(TRAIN_WORDS, TRAIN_TAGS, [["hats", "jogged"]], [["NOUN", "VERB"]],
                                          lengths=(0, 1, 2))
    assert scores == model_scores
    best = max(scores.values())
    assert chosen == min(k for k in scores if scores[k] == best)


# ------------------------------------------------------------------ naive Bayes
NAMES = ["Smith", "Smithson", "Jones", "Kowalski", "Nowak", "Wisniewski", "Kowal", "Brown"]
LABELS = [0, 0, 0, 1, 1, 1, 1, 0]


def test_char_ngrams_of_a_name():
    assert char_ngrams("Ng", (1, 2, 3)) == ["^", "N", "g", "$", "^N", "Ng", "g$", "^Ng", "Ng$"]


def _brute_force_log_posterior(name, names, labels, k, orders=(1, 2, 3)):
    classes = sorted(set(labels))
    vocabulary = {g for n in names for g in char_ngrams(n, orders)}
    scores = []
    for c in classes:
        counts = Counter(g for n, label in zip(names, labels) for g in char_ngrams(n, orders) if label == c)
        total = sum(counts.values())
        score = np.log(labels.count(c) / len(labels))
        for g in char_ngrams(name, orders):
            if g in vocabulary:
                score += np.log((counts[g] + k) / (total + k * len(vocabulary)))
        scores.append(score)
    scores = np.array(scores)
    return scores - np.logaddexp.reduce(scores)


@pytest.mark.parametrize("k", [0.1, 1.0])
def test_naive_bayes_matches_a_brute_force_sum_of_log_probabilities(k):
    model = CharNgramBayes((1, 2, 3), k).fit(NAMES, LABELS, 2)
    queries = ["Smithski", "Kowalson", "Nowakowski", "Jonesy", "Q"]
    expected = np.stack([_brute_force_log_posterior(q, NAMES, LABELS, k) for q in queries])
    np.testing.assert_allclose(model.log_posterior(queries), expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model.set_smoothing(0.5).log_posterior(queries),
                               np.stack([_brute_force_log_posterior(q, NAMES, LABELS, 0.5) for q in queries]),
                               rtol=1e-10, atol=1e-10)


def test_a_name_without_known_ngrams_takes_the_most_frequent_class():
    model = CharNgramBayes((3,), 1.0).fit(["aaa", "bbb", "ccc"], [1, 1, 0], 2)  # prior 2:1 for class 1
    # "zzz" has only unknown trigrams, but its "^zz"... also unknown: only the prior is left
    assert model.predict(["zzz"]).tolist() == [1]
    np.testing.assert_allclose(np.exp(model.log_posterior(["zzz"])[0]), [1 / 3, 2 / 3])


def test_the_smoothing_is_chosen_on_validation():
    valid, valid_labels = ["Smithy", "Kowalczyk", "Browning", "Nowicki"], [0, 1, 0, 1]
    names, labels = NAMES + ["Smithers", "Jonson"], LABELS + [0, 0]  # a prior of 6:4 for class 0
    chosen, scores = choose_smoothing(names, labels, valid, valid_labels, 2, smoothings=(0.01, 0.1, 1.0, 1e6))
    for k, score in scores.items():
        assert score == CharNgramBayes((1, 2, 3), k).fit(names, labels, 2).accuracy(valid, valid_labels)
    assert scores[1e6] < scores[0.01]  # smoothed flat, the letters no longer count: the prior decides
    assert chosen == 1.0 and scores[chosen] == max(scores.values())  # the largest k of the best


# ------------------------------------------------------------------ sampler
def test_a_sampler_of_one_name_per_class_rewrites_it_from_its_first_letter():
    sampler = CharNgramSampler(3).fit(["Hinton", "Bengio"], [0, 1], 2)
    rng = np.random.default_rng(0)
    assert sampler.sample(0, "H", rng) == "Hinton" and sampler.sample(1, "B", rng) == "Bengio"


def test_the_sampler_draws_from_the_counts_of_the_longest_context_seen_in_the_class():
    names, labels = ["abc", "abd", "abd", "xbq"], [0, 0, 0, 1]
    sampler = CharNgramSampler(3).fit(names, labels, 2)
    assert sampler.distribution("ab", 0) == Counter({"d": 2, "c": 1})
    assert sampler.distribution("xb", 1) == Counter({"q": 1})
    assert sampler.distribution("zb", 0) == Counter({"c": 1, "d": 2})  # "zb" unseen: back to "b"
    assert sampler.distribution("zz", 0) == Counter({"a": 3, "b": 3, "c": 1, "d": 2, "$": 3})  # no context
    draws = Counter(sampler.sample(0, "a", np.random.default_rng(seed)) for seed in range(600))
    assert set(draws) == {"abc", "abd"} and draws["abd"] / 600 == pytest.approx(2 / 3, abs=0.06)
    cold = Counter(sampler.sample(0, "a", np.random.default_rng(seed), temperature=0.5) for seed in range(600))
    assert cold["abd"] / 600 == pytest.approx(4 / 5, abs=0.06)  # counts 2:1 squared: 4:1


# ------------------------------------------------------------------ metrics
def test_unseen_word_accuracy_counts_only_unseen_words():
    predicted = np.array([[1, 2, 3, 0], [1, 1, 0, 0]])
    tags = np.array([[1, 0, 3, 0], [2, 1, 0, 0]])
    unseen = np.array([[False, True, True, False], [True, True, False, False]])
    assert unseen_word_accuracy(predicted, tags, unseen) == (0.5, 4)  # right at (0,2), (1,1) of 4
    with pytest.raises(ValueError):
        unseen_word_accuracy(predicted, tags, np.zeros_like(unseen))


def test_judged_share():
    assert judged_share(np.array([0, 1, -1, 2]), np.array([0, 2, 2, 2])) == 0.5
    with pytest.raises(ValueError):
        judged_share(np.array([0]), np.array([0, 1]))


def test_start_letter_chance_closed_forms_and_a_loop():
    assert start_letter_chance(list("AAAA"), np.array([0, 1, 2, 3]), 4) == pytest.approx(1 / 4)  # shared letter
    assert start_letter_chance(list("ABCD"), np.array([0, 1, 2, 3]), 4) == pytest.approx(1.0)  # one each
    rng = np.random.default_rng(0)
    firsts, labels = [str(c) for c in rng.choice(list("ABCDE"), 300)], rng.integers(0, 3, 300)
    p = {(c, s): sum(1 for f, y in zip(firsts, labels) if y == c and f == s) / sum(labels == c)
         for c in range(3) for s in "ABCDE"}
    loop = np.mean([sum(p[c, s] * p[c, s] / sum(p[d, s] for d in range(3)) for s in "ABCDE" if p[c, s])
                    for c in range(3)])
    assert start_letter_chance(firsts, labels, 3) == pytest.approx(loop)


# ------------------------------------------------------------------ data
def test_pos_train_and_test_come_from_the_same_source():
    train, test = load_pos_splits(source="embedded", join_pieces=True)
    assert train.info.source == test.info.source == "embedded" and train.info.name == test.info.name
    assert train.info.split == "train" and test.info.split == "test"
    assert not {" ".join(s) for s in train.words} & {" ".join(s) for s in test.words} - {""}


def test_a_test_split_found_elsewhere_is_not_mixed_with_the_training_split(monkeypatch):
    """Only the test split of English-EWT in the cache (say an earlier download of that one file): the
    training split falls back to the embedded treebank, and so must the test split."""
    real_sources = pos.sources
    english = pos.TaggedSentences([["A", "test"]], [["DET", "NOUN"]], ("DET", "NOUN"),
                                  store.DatasetInfo("UD English-EWT r2.13", "test", 1, "fake", "CC BY-SA 4.0"))

    def sources(split="train", join_pieces=False):
        embedded = [s for s in real_sources(split, join_pieces) if s.kind == "embedded"]
        cached = store.Source("cache", lambda: english, lambda: True, "a fake cached test file")
        return ([cached] if split == "test" else []) + embedded

    monkeypatch.setattr(pos, "sources", sources)
    monkeypatch.delenv("TORCHFLOW_SOURCES", raising=False)
    assert pos.load_pos("test").info.name == "UD English-EWT r2.13"  # alone, the test split would take it
    train, test = load_pos_splits(join_pieces=True)
    assert train.info.source == test.info.source == "embedded" and test.info.name == train.info.name
