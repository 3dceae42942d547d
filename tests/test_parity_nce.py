"""Parity of the sampled-loss skip-gram twins (``SkipGramNCE``, family ``nce``).

The PyTorch twin writes the NCE objective out; the TensorFlow twin calls ``tf.nn.nce_loss``.
Given the same weights and the *same sampled noise words* (fixed here, passed to both), they
compute the same loss and gradients, and train alike. The framework-free sampler draws from
TensorFlow's log-uniform distribution. Tolerances: ``tests/parity.py``.
"""

import inspect

import numpy as np
import pytest
from parity import (
    GRADIENT,
    assert_close_to_scale,
    assert_trajectory_within,
    assert_twins_agree,
    classifier_twins,
    keras_gradients_in_torch_layout,
    layers_trajectory,
)

import torch  # isort: skip
import tensorflow as tf  # isort: skip

from torchflow.data import load_shakespeare
from torchflow.families import family
from torchflow.prep.words import Vocabulary, draw_negatives, skipgram_examples, tokenize, unigram_noise
from torchflow.pt import nce as pt_nce
from torchflow.tf import nce as tf_nce
from torchflow.training import log_uniform_expected, log_uniform_negatives, log_uniform_probability

FAMILY = family("nce")
VOCAB, SAMPLED = 300, 16
KWARGS = {"vocab_size": VOCAB, "embedding_dim": 8}


def _pairs():
    tokens = tokenize(load_shakespeare(source="embedded").text[:60_000])
    return skipgram_examples(Vocabulary.build(tokens, max_size=VOCAB).encode(tokens), 1)


def _batch(centers, contexts, index, rng, dtype="float32"):
    """One batch and its noise: sampled ids, S Q(true word) (B,), S Q(sampled) (S,)."""
    sampled, sampled_expected = log_uniform_negatives(SAMPLED, VOCAB, rng, dtype)
    true_expected = log_uniform_expected(contexts[index], SAMPLED, VOCAB, dtype)
    return centers[index], contexts[index], sampled, true_expected, sampled_expected


def _losses(torch_model, tf_model):
    return torch_model.nce_loss, tf_model.nce_loss


def test_same_weights_and_noise_same_nce_loss_softmax_loss_and_gradients():
    torch_model, tf_model = classifier_twins(FAMILY, **KWARGS)
    centers, contexts = _pairs()
    batch = _batch(centers, contexts, np.arange(32), np.random.default_rng(0))
    assert_twins_agree(tf_model.activations(tf.constant(batch[0])), torch_model.activations(torch.as_tensor(batch[0])))
    for method in ("nce_loss", "softmax_loss"):
        arrays = batch if method == "nce_loss" else batch[:2]
        torch_model.zero_grad()
        loss = getattr(torch_model, method)(*(torch.as_tensor(a) for a in arrays))
        loss.backward()
        with tf.GradientTape() as tape:
            keras_loss = getattr(tf_model, method)(*(tf.constant(a) for a in arrays))
        assert_close_to_scale(method, keras_loss, loss)
        torch_grads = {n: p.grad.numpy() for n, p in torch_model.named_parameters()}
        keras_grads = keras_gradients_in_torch_layout(
            tf_model, tape.gradient(keras_loss, tf_model.trainable_variables), ["embeddings", "nce"])
        assert_twins_agree(keras_grads, torch_grads, GRADIENT)
        # the sampled loss touches only the rows of the batch's words and of the noise words
        touched = np.abs(torch_grads["nce.weight"]).sum(1) > 0
        expected = np.zeros(VOCAB, bool)
        expected[np.concatenate([batch[1], batch[2]])] = True
        if method == "nce_loss":
            np.testing.assert_array_equal(touched, expected)


def _sgns_batch(centers, contexts, index, rng, k=5):
    """One batch with k noise words per pair from word2vec's unigram^(3/4) noise of these pairs' counts."""
    noise = unigram_noise(np.bincount(contexts, minlength=VOCAB) + 1)
    return centers[index], contexts[index], draw_negatives(noise, (len(index), k), rng)


def test_same_weights_and_negatives_same_sgns_loss_and_gradients():
    """Both twins write the negative-sampling loss out; the output bias gets no gradient in either."""
    torch_model, tf_model = classifier_twins(FAMILY, **KWARGS)
    centers, contexts = _pairs()
    batch = _sgns_batch(centers, contexts, np.arange(32), np.random.default_rng(0))
    loss = torch_model.sgns_loss(*(torch.as_tensor(a) for a in batch))
    loss.backward()
    with tf.GradientTape() as tape:
        keras_loss = tf_model.sgns_loss(*(tf.constant(a) for a in batch))
    assert_close_to_scale("sgns_loss", keras_loss, loss)
    gradients = tape.gradient(keras_loss, tf_model.trainable_variables)
    assert torch_model.nce.bias.grad is None
    assert [g is None for g in gradients] == [v is tf_model.nce.bias for v in tf_model.trainable_variables]
    keras_grads = keras_gradients_in_torch_layout(
        tf_model, [tf.zeros_like(v) if g is None else g for g, v in zip(gradients, tf_model.trainable_variables)],
        ["embeddings", "nce"])
    torch_grads = {n: p.grad.numpy() for n, p in torch_model.named_parameters() if p.grad is not None}
    assert_twins_agree({n: keras_grads[n] for n in torch_grads}, torch_grads, GRADIENT)


def test_sgns_trajectory_float64_twins_train_identically():
    """60 Adam steps of the negative-sampling loss in float64 (5 noise words per pair, the same for both
    twins; Keras' loss adds 0 x its bias so that every variable has a gradient, which Adam turns into a
    zero update). Measured (x86-64): losses within 2.2e-16 relative, weights 2.4e-15 of their scale
    (float32: 6.0e-6 and 7.9e-3). Asserted: 1e-14 and 5e-14."""
    torch_model, tf_model = classifier_twins(FAMILY, dtype="float64", **KWARGS)
    centers, contexts = _pairs()
    rng = np.random.default_rng(0)
    batches = [_sgns_batch(centers, contexts, rng.choice(len(centers), 32, replace=False), rng) for _ in range(60)]

    def tf_loss(*batch):
        return tf_model.sgns_loss(*batch) + 0.0 * tf.reduce_sum(tf_model.nce.bias)

    result = layers_trajectory(FAMILY, torch_model, tf_model, torch_model.sgns_loss, tf_loss, batches,
                               learning_rate=1e-2)
    assert_trajectory_within("float64 sgns", result, loss=1e-14, weights=5e-14)


def test_nce_loss_is_the_written_out_objective():
    """One pair, one noise word, by hand: -log s(e.u_c + b_c - log SQ(c)) - log(1 - s(e.u_n + b_n - log SQ(n)))."""
    torch_model, tf_model = classifier_twins(FAMILY, **KWARGS)
    e = torch_model.embeddings.weight[3].detach().numpy().astype(np.float64)
    u, b = torch_model.nce.weight.detach().numpy(), torch_model.nce.bias.detach().numpy()
    q_c, q_n = log_uniform_expected(np.array([5, 40]), 1, VOCAB, "float64")
    true_logit, noise_logit = e @ u[5] + b[5] - np.log(q_c), e @ u[40] + b[40] - np.log(q_n)
    expected = np.log1p(np.exp(-true_logit)) + np.log1p(np.exp(noise_logit))
    arrays = (np.array([3]), np.array([5]), np.array([40]), np.array([q_c], np.float32), np.array([q_n], np.float32))
    assert_close_to_scale("by hand, PyTorch", torch_model.nce_loss(*(torch.as_tensor(a) for a in arrays)), expected)
    assert_close_to_scale("by hand, tf.nn.nce_loss", tf_model.nce_loss(*(tf.constant(a) for a in arrays)), expected)


def test_sampler_is_tensorflows_log_uniform_sampler():
    """Expected counts equal ``tf.random.log_uniform_candidate_sampler(unique=False)``'s, and draws follow Q."""
    ids = np.array([[0], [1], [7], [299]], np.int64)
    _, true_expected, _ = tf.random.log_uniform_candidate_sampler(ids, 1, SAMPLED, unique=False, range_max=VOCAB)
    assert_close_to_scale("expected counts", true_expected.numpy().ravel(), log_uniform_expected(ids.ravel(), SAMPLED,
                                                                                                 VOCAB))
    assert log_uniform_probability(np.arange(VOCAB), VOCAB).sum() == pytest.approx(1.0)
    draws, _ = log_uniform_negatives(200_000, VOCAB, np.random.default_rng(0))
    frequency = np.bincount(draws, minlength=VOCAB)[:10] / len(draws)
    np.testing.assert_allclose(frequency, log_uniform_probability(np.arange(10), VOCAB), rtol=0.05)
    with pytest.raises(ValueError, match="num_sampled"):
        log_uniform_negatives(0, VOCAB, np.random.default_rng(0))


def test_twins_have_the_same_signatures():
    for name in ("SkipGramNCE",):
        assert inspect.signature(getattr(pt_nce, name)) == inspect.signature(getattr(tf_nce, name))
    for method in ("nce_loss", "softmax_loss", "sgns_loss", "activations"):
        assert (list(inspect.signature(getattr(pt_nce.SkipGramNCE, method)).parameters)
                == list(inspect.signature(getattr(tf_nce.SkipGramNCE, method)).parameters)), method


@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
def test_bad_sizes_are_refused(framework):
    with pytest.raises(ValueError, match="vocab_size and embedding_dim"):
        FAMILY.build(framework, vocab_size=10, embedding_dim=0)


def _trajectory(dtype="float32", steps=60):
    torch_model, tf_model = classifier_twins(FAMILY, dtype=dtype, **KWARGS)
    centers, contexts = _pairs()
    rng = np.random.default_rng(0)
    batches = [_batch(centers, contexts, rng.choice(len(centers), 32, replace=False), rng, dtype)
               for _ in range(steps)]
    return layers_trajectory(FAMILY, torch_model, tf_model, *_losses(torch_model, tf_model), batches,
                             learning_rate=1e-2)


def test_trajectory_twins_train_alike():
    """60 Adam steps (lr 1e-2, epsilon 1e-8), batch 32 of real skip-gram pairs, 16 fixed noise words per
    step shared by the twins, Keras given dense gradients (``parity.dense_gradients_step``).
    Measured (x86-64, AVX-512): losses within 6.5e-5 relative, weights within 4.8e-2 of their scale
    (Adam moves output rows with tiny gradients by about the learning rate). Asserted: 1e-3 and 0.2.
    The float64 test shows the drift is rounding."""
    assert_trajectory_within("nce", _trajectory(), loss=1e-3, weights=0.2)


def test_trajectory_float64_twins_train_identically():
    """The same 60 steps in float64 (PyTorch's Adam computing Keras' update). Measured: losses within
    2.6e-16 relative, weights 1.1e-15 of their scale. Asserted: 1e-14 and 5e-14."""
    assert_trajectory_within("float64 nce", _trajectory("float64"), loss=1e-14, weights=5e-14)
