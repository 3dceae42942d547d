"""Sentence pairs as batches (``torchflow.data.sentences``) and the corpus scores of the seq2seq chapter."""

import numpy as np
import pytest
import sacrebleu

from torchflow.data.sentences import EOS, PAD, Vocabulary, encode_batch, normalize, prepare_pairs, split_indices
from torchflow.metrics import corpus_bleu, exact_match


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


def test_split_indices_is_a_seeded_partition():
    train, test, validation = split_indices(100, [20, 10], seed=3)
    assert (len(train), len(test), len(validation)) == (70, 20, 10)
    assert sorted(np.concatenate([train, test, validation]).tolist()) == list(range(100))
    assert split_indices(100, [20, 10], seed=3)[1].tolist() == test.tolist()
    with pytest.raises(ValueError, match="leave nothing"):
        split_indices(10, [5, 5])


def test_corpus_bleu_is_sacrebleu_and_exact_match_counts():
    hypotheses = ["one hundred and two", "five", "twenty one thousand"]
    references = ["one hundred and two", "fifty", "twenty one thousand and one"]
    assert corpus_bleu(hypotheses, references) == pytest.approx(
        sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none").score)
    assert corpus_bleu(references, references) == pytest.approx(100.0)
    assert exact_match(hypotheses, references) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="as many hypotheses"):
        corpus_bleu(["a"], [])
