"""The seq2seq chapter's lookup baselines (``torchflow.baselines.lookup``) against hand computations."""

import numpy as np
import pytest

from torchflow.baselines.lookup import NearestReply, WordByWord


def test_word_by_word_takes_the_strongest_dice_partner_by_hand():
    pairs = [("un chat", "a cat"), ("un chien", "a dog"), ("deux chats", "two cats"), ("un chat noir", "a black cat")]
    lookup = WordByWord(pairs)
    # "un" is in 3 sentences with "a" 3 times: Dice 2*3/(3+3) = 1; with "cat": 2*2/(3+2) = 0.8
    assert lookup.table["un"] == (1.0, "a")
    # "chat": 2 sentences; "cat" 2*2/(2+2) = 1, "a" 2*2/(2+3) = 0.8
    assert lookup.table["chat"] == (1.0, "cat")
    # "noir": 1 sentence; "black" 2*1/(1+1) = 1 beats "cat" (2/3) and "a" (2/4)
    assert lookup.table["noir"] == (1.0, "black")
    assert lookup.translate("un chat noir") == "a cat black"  # source order: no reordering
    assert lookup.translate("un zebre") == "a"  # an unknown word is dropped
    assert WordByWord(pairs, min_dice=1.01).translate("un chat") == ""
    with pytest.raises(ValueError, match="at least one"):
        WordByWord([])


def test_word_by_word_drops_words_below_min_dice():
    pairs = [("trois cent", "three hundred"), ("cent et un", "hundred and one"), ("trois", "three")]
    # "et": 1 sentence; "and" and "one" 2*1/(1+1) = 1, "hundred" 2*1/(1+2); ties go to the later word
    assert WordByWord(pairs).table["et"] == (1.0, "one")
    # "cent": 2 sentences with "hundred" twice, Dice 1
    assert WordByWord(pairs, min_dice=0.9).translate("trois cent") == "three hundred"


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

    for query in ["how are you doing", "hello you", "your name please", "old you"]:
        similarities = [float(vector(query) @ vector(p)) for p in prompts]
        assert retrieval.nearest(query) == int(np.argmax(similarities)), query
        assert retrieval.reply(query) == replies[int(np.argmax(similarities))]
    assert retrieval(["how are you"]) == ["fine"]  # a training prompt finds itself
    assert retrieval.reply("zzz") == "hi"  # nothing known: the first reply
    with pytest.raises(ValueError, match="as many prompts"):
        NearestReply(["a"], [])
