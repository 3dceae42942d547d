"""Sentence pairs as batches (``torchflow.prep.sentences``) and the corpus scores of the seq2seq chapter."""

import math

import numpy as np
import pytest

from torchflow.metrics import bleu_by_length, bleu_standard_error, corpus_bleu, exact_match, token_f1
from torchflow.prep.sentences import (
    EOS,
    PAD,
    Vocabulary,
    draw_teacher_forcing,
    encode_batch,
    normalize,
    prepare_pairs,
)


def test_normalize_follows_the_tutorial():
    assert normalize("  Ça va ? Très bien, merci.") == "ca va ? tres bien merci ."
    assert normalize("quatre-vingt-dix-neuf") == "quatre vingt dix neuf"
    assert normalize("I'm OK!") == "i m ok !"


def test_prepare_pairs_filters_by_length_and_rare_words():
    pairs = [("un chat", "a cat")] * 3 + [("un chien", "a dog")] + [("un " * 10, "a " * 10)] * 3
    kept, source, target = prepare_pairs(pairs, max_words=10, min_count=3)
    assert kept == [("un chat", "a cat")] * 3  # "chien" is rare, the long pair too long
    assert source.words == ["<pad>", "<sos>", "<eos>", "chat", "un"] and len(target) == 5
    with pytest.raises(ValueError, match="max_words"):
        prepare_pairs(pairs, max_words=1)


def test_vocabulary_round_trip_and_errors():
    vocabulary = Vocabulary.build(["b a", "a"])
    assert vocabulary.words[3:] == ["a", "b"]  # most frequent first
    assert vocabulary.encode("a b") == [3, 4, EOS]
    assert vocabulary.decode([3, 4, EOS, 3]) == "a b"
    assert vocabulary.fingerprint != Vocabulary.build(["a c"]).fingerprint
    with pytest.raises(ValueError, match="'zebra' is not in the vocabulary"):
        vocabulary.encode("a zebra")
    with pytest.raises(ValueError, match="starts with"):
        Vocabulary(["a", "b", "c"])
    tokens, lengths = encode_batch(["a", "b a"], vocabulary, 4)
    np.testing.assert_array_equal(tokens, [[3, EOS, PAD, PAD], [4, 3, EOS, PAD]])
    np.testing.assert_array_equal(lengths, [2, 3])
    with pytest.raises(ValueError, match="more than steps=2"):
        encode_batch(["b a"], vocabulary, 2)


def test_exact_match_counts_identical_sentences():
    hypotheses = ["one hundred and two", "five", "twenty one thousand"]
    references = ["one hundred and two", "fifty", "twenty one thousand and one"]
    assert exact_match(hypotheses, references) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="as many hypotheses"):
        corpus_bleu(["a"], [])


def test_bleu_by_length_scores_each_bin_alone_by_hand():
    """Bin [1, 3): one hypothesis, 4 words all matching its 4-word reference: 100. Bin [3, 9): the
    hand-computed case of ``tests/test_metrics.py`` (11 words against 13; n-grams 11/11, 8/9, 6/7, 4/5)."""
    hypotheses = ["a b c d", "the cat sat on the mat", "a b c d e"]
    references = ["a b c d", "the cat sat on the red mat today", "a b c d e"]
    expected = 100 * math.exp(1 - 13 / 11) * (1 * 8 / 9 * 6 / 7 * 4 / 5) ** 0.25
    got = bleu_by_length(hypotheses, references, np.array([2, 3, 8]), [(1, 3), (3, 9)])  # 3 is in [3, 9)
    assert got == pytest.approx([100.0, expected], rel=1e-6)
    with pytest.raises(ValueError, match="no item"):
        bleu_by_length(hypotheses, references, np.array([2, 3, 8]), [(10, 12)])


def test_bleu_standard_error_is_that_of_the_parts():
    rng = np.random.default_rng(0)
    words = ["one", "two", "three", "four", "five"]
    references = [" ".join(rng.choice(words, 6)) for _ in range(40)]
    hypotheses = [" ".join(w if rng.random() < 0.7 else "six" for w in r.split()) for r in references]
    order = np.random.default_rng(3).permutation(40)
    parts = [corpus_bleu([hypotheses[i] for i in p], [references[i] for i in p]) for p in np.array_split(order, 4)]
    assert bleu_standard_error(hypotheses, references, parts=4, seed=3) == pytest.approx(
        np.std(parts, ddof=1) / 2, rel=1e-9)
    assert bleu_standard_error(references, references, parts=4) == 0.0
    with pytest.raises(ValueError, match="at least 8"):
        bleu_standard_error(hypotheses[:7], references[:7], parts=4)


def test_token_f1_by_hand():
    got = token_f1(["i am fine", "hello hello", "", "", "yes"], ["i am good thanks", "hello", "", "no", "no"])
    # shared 2 of 3 and 4 words: 2 * 2 / 7; "hello" counted once: 2 * 1 / 3; empty both: 1; one empty: 0
    np.testing.assert_allclose(got, [4 / 7, 2 / 3, 1.0, 0.0, 0.0])


def test_teacher_forcing_is_drawn_per_decoder_step_with_the_ratio():
    """Ratio 1: every step gets the reference; 0: none; in between, each step on its own (so a
    sentence's steps differ) and True with probability ``ratio`` (not 1 - ratio)."""
    assert draw_teacher_forcing(np.random.default_rng(0), 1.0, 19).all()
    assert not draw_teacher_forcing(np.random.default_rng(0), 0.0, 19).any()
    rng = np.random.default_rng(4)
    draws = np.stack([draw_teacher_forcing(rng, 0.2, 19) for _ in range(2000)])
    assert draws.shape == (2000, 19) and draws.dtype == bool
    assert draws.mean() == pytest.approx(0.2, abs=0.01)
    mixed = np.mean([0 < row.sum() < len(row) for row in draws])
    assert mixed > 0.95, "the draws look per sentence: a row is all True or all False"  # per step: 1 - 0.2^19 - 0.8^19
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        draw_teacher_forcing(rng, 1.5, 3)
