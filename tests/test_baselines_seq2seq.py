"""The seq2seq chapter's lookup baselines (``torchflow.baselines.lookup``) against hand computations."""

import numpy as np
import pytest

from torchflow.baselines.lookup import NearestReply, WordByWord


def _model1_by_loops(pairs, iterations):
    """IBM Model 1's EM written out with loops and dictionaries, NULL word included."""
    targets = sorted({w for _, t in pairs for w in t.split()})
    table = {}
    for _ in range(iterations):
        counts, totals = {}, {}
        for source, target in pairs:
            words = ["<null>", *source.split()]
            for t in target.split():
                probabilities = [table.get((s, t), 1 / len(targets)) for s in words]
                for s, p in zip(words, probabilities):
                    share = p / sum(probabilities)
                    counts[s, t] = counts.get((s, t), 0.0) + share
                    totals[s] = totals.get(s, 0.0) + share
        table = {(s, t): c / totals[s] for (s, t), c in counts.items()}
    return table, targets


def test_word_by_word_is_ibm_model_1_by_loops():
    rng = np.random.default_rng(0)
    french, english = ["un", "deux", "trois", "cent", "et"], ["one", "two", "three", "hundred", "and"]
    pairs = []
    for _ in range(30):
        picks = rng.choice(5, rng.integers(1, 4), replace=False)
        pairs.append((" ".join(french[i] for i in picks), " ".join(english[i] for i in rng.permutation(picks))))
    lookup = WordByWord(pairs, iterations=4)
    table, targets = _model1_by_loops(pairs, 4)
    for s in lookup.source_words:
        for j, t in enumerate(targets):
            assert lookup.table[lookup.index[s], j] == pytest.approx(table.get((s, t), 0.0), abs=1e-12), (s, t)
    for s, t in zip(french, english):  # word order shuffled, yet EM finds each word's partner
        assert lookup.best(s)[0] == t


def test_word_by_word_translates_in_source_order_and_drops_the_improbable():
    pairs = [("la maison", "the house"), ("la fleur", "the flower"), ("maison bleue", "blue house")]
    lookup = WordByWord(pairs)
    assert lookup.translate("maison la") == "house the"  # source order: no reordering
    assert lookup.translate("la zebre") == "the"  # an unknown word is dropped
    assert lookup.best("zebre") is None
    assert WordByWord(pairs, min_probability=1.01).translate("la maison") == ""
    with pytest.raises(ValueError, match="at least one"):
        WordByWord([])


def test_nearest_reply_is_the_brute_force_tfidf_cosine():
    prompts = ["hello there", "how are you", "what is your name", "how old are you", "hello"]
    replies = ["hi", "fine", "bot", "two", "hey"]
    retrieval = NearestReply(prompts, replies)
    vocabulary = sorted({w for p in prompts for w in p.split()})
    n = len(prompts)
    idf = {w: np.log((1 + n) / (1 + sum(w in p.split() for p in prompts))) + 1 for w in vocabulary}

    def vector(text):
        v = np.array([text.split().count(w) * idf[w] for w in vocabulary], float)
        return v / np.linalg.norm(v) if np.linalg.norm(v) else v

    for query in ["how are you doing", "hello you", "your name please", "old you", "how name", "is old"]:
        similarities = [float(vector(query) @ vector(p)) for p in prompts]
        assert retrieval.nearest(query) == int(np.argmax(similarities)), query
        assert retrieval.reply(query) == replies[int(np.argmax(similarities))]
    assert retrieval(["how are you"]) == ["fine"]  # a training prompt finds itself
    assert retrieval.reply("how name") == "bot"  # "name" is rarer than "how": idf decides
    assert retrieval.reply("zzz") == "hi"  # nothing known: the first reply
    with pytest.raises(ValueError, match="as many prompts"):
        NearestReply(["a"], [])
