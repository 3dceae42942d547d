"""Parity of the LSTM tagger twins (``LSTMTagger``, ``CharLSTMTagger``; family ``tagger``).

The same weights (recurrent gates and biases moved by :mod:`torchflow.convert`) give the same
tag scores, masked loss and gradients on padded batches of real tagged sentences, and the twins
train alike. Tolerances: ``tests/parity.py``.
"""

import inspect

import numpy as np
import pytest
from parity import (
    GRADIENT,
    as_array,
    assert_close_to_scale,
    assert_trajectory_within,
    assert_twins_agree,
    classifier_twins,
    keras_gradients_in_torch_layout,
    layers_trajectory,
)

import torch  # isort: skip
import tensorflow as tf  # isort: skip

from torchflow.data import load_pos
from torchflow.families import family
from torchflow.prep.words import Vocabulary, char_ids, pad_sequences
from torchflow.pt import tagger as pt_tagger
from torchflow.tf import tagger as tf_tagger

FAMILY = family("tagger")
WORD_LENGTH = 12


def _data():
    """Padded words, characters and tags of 256 real sentences (the embedded Turkish treebank)."""
    data = load_pos("train", source="embedded", join_pieces=True)
    words, tags = data.words[:256], data.tags[:256]
    vocabulary = Vocabulary.build((w for s in words for w in s), min_count=2, specials=("<pad>", "<unk>"),
                                  unknown="<unk>")
    alphabet = Vocabulary.build((c for s in words for w in s for c in w), specials=("<pad>", "<unk>"),
                                unknown="<unk>")
    tagset = {t: i for i, t in enumerate(data.tagset)}
    word_array = pad_sequences([vocabulary.encode(s) for s in words], multiple=8, max_length=24)
    tag_array = pad_sequences([[tagset[t] for t in s] for s in tags], multiple=8, max_length=24)
    chars = char_ids(words, alphabet, WORD_LENGTH, word_array.shape[1])
    sizes = {"vocab_size": len(vocabulary), "tagset_size": len(tagset)}
    return word_array, chars, tag_array, sizes, len(alphabet)


def _kwargs(name, sizes, alphabet_size, bidirectional=False):
    kwargs = {**sizes, "embedding_dim": 8, "hidden_dim": 12, "bidirectional": bidirectional}
    return kwargs if name == "LSTMTagger" else {**kwargs, "alphabet_size": alphabet_size, "char_hidden_dim": 5}


def _losses(torch_model, tf_model, name):
    """Cross-entropy over the real words (padding, id 0, masked out), for (words, chars, tags)."""
    def torch_loss(words, chars, tags):
        scores = torch_model(words) if name == "LSTMTagger" else torch_model(words, chars)
        mask = (words != 0).to(scores.dtype)
        losses = torch.nn.functional.cross_entropy(scores.transpose(1, 2), tags, reduction="none")
        return (losses * mask).sum() / mask.sum()

    def tf_loss(words, chars, tags):
        scores = tf_model(words) if name == "LSTMTagger" else tf_model(words, chars)
        mask = tf.cast(words != 0, scores.dtype)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(tags, scores)
        return tf.reduce_sum(losses * mask) / tf.reduce_sum(mask)

    return torch_loss, tf_loss


@pytest.mark.parametrize("bidirectional", [False, True], ids=["one-way", "both-ways"])
@pytest.mark.parametrize("name", FAMILY.classes)
def test_same_weights_same_tag_scores_loss_and_gradients(name, bidirectional):
    words, chars, tags, sizes, alphabet_size = _data()
    torch_model, tf_model = classifier_twins(FAMILY, class_name=name,
                                             **_kwargs(name, sizes, alphabet_size, bidirectional))
    inputs = (words[:16],) if name == "LSTMTagger" else (words[:16], chars[:16])
    assert_twins_agree(tf_model.activations(*(tf.constant(a) for a in inputs)),
                       torch_model.activations(*(torch.as_tensor(a) for a in inputs)))
    torch_loss, tf_loss = _losses(torch_model, tf_model, name)
    batch = (words[:16], chars[:16], tags[:16])
    loss = torch_loss(*(torch.as_tensor(a) for a in batch))
    loss.backward()
    with tf.GradientTape() as tape:
        keras_loss = tf_loss(*(tf.constant(a) for a in batch))
    assert_close_to_scale("loss", keras_loss, loss)
    torch_grads = {n: p.grad.numpy() for n, p in torch_model.named_parameters() if p.requires_grad}
    keras_grads = keras_gradients_in_torch_layout(tf_model, tape.gradient(keras_loss, tf_model.trainable_variables),
                                                  dict.fromkeys(n.rsplit(".", 1)[0] for n in torch_grads))
    keras_grads = {n: g for n, g in keras_grads.items() if n in torch_grads}  # bias_hh: frozen at zero
    for n, grad in torch_grads.items():
        assert np.abs(grad).max() > 0, f"{n} has no gradient"
    assert_twins_agree(keras_grads, torch_grads, GRADIENT)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["one-way", "both-ways"])
def test_padding_does_not_change_the_real_words_scores(bidirectional):
    """A sentence alone, or padded with more words and letters: the same scores at its words (both ways
    too: the backward LSTM starts at the last real word, not in the padding)."""
    words, chars, tags, sizes, alphabet_size = _data()
    torch_model, tf_model = classifier_twins(FAMILY, class_name="CharLSTMTagger",
                                             **_kwargs("CharLSTMTagger", sizes, alphabet_size, bidirectional))
    length = int((words[0] != 0).sum())
    short_words, short_chars = words[:1, :length], chars[:1, :length, :]
    wide_chars = np.concatenate([chars[:1], np.zeros((1, words.shape[1], 4), np.int64)], -1)
    for model, convert in ((torch_model, torch.as_tensor), (tf_model, tf.constant)):
        alone = as_array(model(convert(short_words), convert(short_chars)))
        padded = as_array(model(convert(words[:1]), convert(wide_chars)))[:, :length]
        assert_close_to_scale("padded", padded, alone)


@pytest.mark.parametrize("name", FAMILY.classes)
def test_only_the_bidirectional_tagger_reads_the_next_word(name):
    """Changing the last word of a sentence moves the scores of the word before it both ways, never one way."""
    words, chars, tags, sizes, alphabet_size = _data()
    length = int((words[0] != 0).sum())
    changed_words, changed_chars = words[:1].copy(), chars[:1].copy()
    changed_words[0, length - 1] = 1 + words[0, length - 1] % (sizes["vocab_size"] - 1)
    changed_chars[0, length - 1] = np.roll(changed_chars[0, length - 1], 1)
    for bidirectional in (False, True):
        torch_model, tf_model = classifier_twins(FAMILY, class_name=name,
                                                 **_kwargs(name, sizes, alphabet_size, bidirectional))
        for model, convert in ((torch_model, torch.as_tensor), (tf_model, tf.constant)):
            def scores(w, c, model=model, convert=convert):
                return as_array(model(convert(w)) if name == "LSTMTagger" else model(convert(w), convert(c)))
            moved = np.abs(scores(words[:1], chars[:1]) - scores(changed_words, changed_chars))[0, length - 2].max()
            assert (moved > 1e-4) == bidirectional, (bidirectional, type(model).__module__, moved)


def test_twins_have_the_same_signatures():
    for name in FAMILY.classes:
        assert inspect.signature(getattr(pt_tagger, name)) == inspect.signature(getattr(tf_tagger, name)), name


@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
def test_bad_sizes_are_refused(framework):
    with pytest.raises(ValueError, match="tagset_size=0"):
        FAMILY.build(framework, "LSTMTagger", vocab_size=10, tagset_size=0)
    with pytest.raises(ValueError, match="char_hidden_dim=0"):
        FAMILY.build(framework, "CharLSTMTagger", vocab_size=10, tagset_size=3, alphabet_size=5, char_hidden_dim=0)


def _trajectory(name, dtype="float32", steps=50, bidirectional=False):
    words, chars, tags, sizes, alphabet_size = _data()
    torch_model, tf_model = classifier_twins(FAMILY, class_name=name, dtype=dtype,
                                             **_kwargs(name, sizes, alphabet_size, bidirectional))
    rng = np.random.default_rng(0)
    batches = [(words[i], chars[i], tags[i]) for i in (rng.choice(len(words), 16, replace=False)
                                                       for _ in range(steps))]
    return layers_trajectory(FAMILY, torch_model, tf_model, *_losses(torch_model, tf_model, name), batches,
                             learning_rate=1e-2)


@pytest.mark.parametrize("name", FAMILY.classes)
def test_trajectory_twins_train_alike(name):
    """50 Adam steps (lr 1e-2, epsilon 1e-8), batch 16 of real sentences, Keras given dense gradients.
    Measured (x86-64, AVX-512), losses relative / weights of their scale: LSTMTagger 3.7e-5 / 7.5e-3,
    CharLSTMTagger 4.0e-5 / 9.6e-3. Asserted: 1e-3 and 0.1. The float64 test shows it is rounding."""
    assert_trajectory_within(name, _trajectory(name), loss=1e-3, weights=0.1)


@pytest.mark.parametrize("name", FAMILY.classes)
def test_trajectory_float64_twins_train_identically(name):
    """The same 50 steps in float64 (PyTorch's Adam computing Keras' update). Measured: losses within
    3.1e-16 relative, weights within 3.7e-15 of their scale. Asserted: 1e-14 and 5e-14."""
    assert_trajectory_within(f"float64 {name}", _trajectory(name, "float64"), loss=1e-14, weights=5e-14)


def test_trajectory_float64_bidirectional_twins_train_identically():
    """The bidirectional word tagger, 50 float64 steps as above. Asserted: 1e-14 and 5e-14."""
    assert_trajectory_within("float64 bidirectional LSTMTagger",
                             _trajectory("LSTMTagger", "float64", bidirectional=True), loss=1e-14, weights=5e-14)
