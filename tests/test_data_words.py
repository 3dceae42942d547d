"""The word windows, vocabularies and padded batches of the embeddings chapter (torchflow.prep.words)."""

import numpy as np
import pytest

from torchflow.prep.words import (
    Vocabulary,
    cbow_examples,
    char_ids,
    ngram_examples,
    pad_sequences,
    skipgram_examples,
    split_stream,
    tokenize,
)

TEXT = "The brown quick fox jumped over the lazy dog."


def test_windows_are_the_notes_examples():
    tokens = tokenize(TEXT)
    vocabulary = Vocabulary.build(tokens)
    ids = vocabulary.encode(tokens)
    contexts, targets = ngram_examples(ids, 2)
    assert vocabulary.decode(contexts[0]) == ["the", "brown"] and vocabulary.decode(targets[:2]) == ["quick", "fox"]
    contexts, targets = cbow_examples(ids, 1)
    assert vocabulary.decode(contexts[0]) == ["the", "quick"] and vocabulary.decode(targets[:1]) == ["brown"]
    centers, neighbours = skipgram_examples(ids, 1)
    pairs = list(zip(vocabulary.decode(centers[:5]), vocabulary.decode(neighbours[:5])))
    assert pairs == [("the", "brown"), ("brown", "the"), ("brown", "quick"), ("quick", "brown"), ("quick", "fox")]


def test_vocabulary_orders_by_frequency_and_handles_unknown_words():
    vocabulary = Vocabulary.build(tokenize(TEXT), max_size=4, specials=("<pad>", "<unk>"), unknown="<unk>")
    assert vocabulary.words[:3] == ("<pad>", "<unk>", "the")
    assert vocabulary.encode(["the", "zebra"]).tolist() == [2, 1]
    assert Vocabulary.build(tokenize(TEXT), max_size=2).encode(["the", "zebra", "brown"]).tolist() == [0, 1]
    with pytest.raises(ValueError, match="max_size"):
        Vocabulary.build(["a"], max_size=1, specials=("<pad>",))
    with pytest.raises(ValueError, match="shorter than one example"):
        ngram_examples(np.arange(2), 2)
    with pytest.raises(ValueError, match="window"):
        cbow_examples(np.arange(5), 0)


def test_padding_and_characters():
    padded = pad_sequences([[3, 4, 5], [6]], multiple=4)
    assert padded.tolist() == [[3, 4, 5, 0], [6, 0, 0, 0]]
    alphabet = Vocabulary.build("abcdef", specials=("<pad>", "<unk>"), unknown="<unk>")
    chars = char_ids([["abc", "fedcba"]], alphabet, word_length=4, length=3)
    assert chars.shape == (1, 3, 4)
    assert alphabet.decode(chars[0, 1]) == list("dcba")  # a long word keeps its last letters
    assert chars[0, 0, 3] == 0 and not chars[0, 2].any()
    with pytest.raises(ValueError, match="<pad>"):
        char_ids([["a"]], Vocabulary.build("ab"), 2, 1)


def test_split_stream_numbers_the_training_words_and_drops_the_others():
    tokens = tokenize("a b a c a b d e f a")  # 10 words: 8 train, 1 validation, 1 test
    vocabulary, train, valid, test = split_stream(tokens, vocab_size=2, train=0.8, valid=0.1)
    assert vocabulary.words == ("a", "b")
    assert vocabulary.decode(train) == ["a", "b", "a", "a", "b"] and len(valid) == 0 and len(test) == 1
    with pytest.raises(ValueError, match="fractions"):
        split_stream(tokens, 2, train=0.9, valid=0.2)


def test_combined_clock_adds_steps_and_leaves_out_each_first_step():
    """(torchflow.training, used by the pages that train several models per twin)"""
    from torchflow.training import StepClock, combined_clock

    clock = combined_clock([StepClock(steps=3, seconds=2.0, first_step=5.0), StepClock(steps=2, seconds=1.0,
                                                                                      first_step=4.0)])
    assert clock.seconds_per_step == pytest.approx(3.0 / 3) and clock.total_seconds == pytest.approx(12.0)
    with pytest.raises(ValueError, match="no clocks"):
        combined_clock([])
