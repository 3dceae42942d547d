"""Parity of the shared layers (family ``layers``): ``torchflow.pt.layers`` against ``torchflow.tf.layers``.

Batch norm: one set of weights and running statistics copied into both twins
(:func:`torchflow.convert.copy_weights`) gives the same outputs in evaluation and training
mode and the same gradients, and after a few training passes the same running statistics,
which are also checked against a NumPy computation of PyTorch's rule (momentum 0.1 on the
new batch, the unbiased batch variance). Initialisation: Glorot uniform's bound and
variance, N(0, 0.02) and N(1, 0.02), embedding rows U(-1, 1), Keras' recurrent biases, each
against its closed form. Explicit weights: the same names and arrays in and out, in both.
Tolerances: ``tests/parity.py``.
"""

import inspect

import numpy as np
import pytest
from parity import FORWARD, GRADIENT, as_array, assert_close_to_scale, assert_same_signatures, nhwc

import keras  # isort: skip
import tensorflow as tf  # isort: skip
import torch  # isort: skip
from torch import nn  # isort: skip

from torchflow.convert import copy_weights, recurrent_to_torch
from torchflow.families import family
from torchflow.pt import layers as pt_layers
from torchflow.tf import layers as tf_layers

LAYERS = family("layers")
CHANNELS = 3


def _batch_norm_twins(seed: int = 0):
    """A PyTorch and a Keras batch norm (each in a one-layer Sequential, so that ``state_dict`` names
    the Keras layer) holding the same scale, shift and non-trivial running statistics."""
    torch_model = nn.Sequential(pt_layers.BatchNorm(CHANNELS))
    tf_model = keras.Sequential([tf_layers.BatchNorm()])
    tf_model(np.zeros((1, 2, 2, CHANNELS), np.float32))  # build
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        norm = torch_model[0]
        norm.weight.copy_(torch.as_tensor(rng.normal(1.0, 0.3, CHANNELS)))
        norm.bias.copy_(torch.as_tensor(rng.normal(0.0, 0.3, CHANNELS)))
        norm.running_mean.copy_(torch.as_tensor(rng.normal(0.0, 0.5, CHANNELS)))
        norm.running_var.copy_(torch.as_tensor(rng.uniform(0.5, 2.0, CHANNELS)))
    copy_weights(torch_model, tf_model, LAYERS)
    return torch_model, tf_model


def _maps(batch: int, side: int, seed: int) -> np.ndarray:
    """(B, C, H, W) maps with a different mean and spread per channel."""
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 1, (batch, CHANNELS, side, side)) * [[[[0.5]], [[2.0]], [[1.0]]]]
            + [[[[1.0]], [[-3.0]], [[0.0]]]]).astype(np.float32)


@pytest.mark.parametrize("training", [False, True])
def test_batch_norm_twins_agree_on_outputs_and_gradients(training):
    torch_model, tf_model = _batch_norm_twins()
    x = _maps(5, 4, seed=1)
    weights = np.random.default_rng(2).normal(size=x.shape).astype(np.float32)  # a loss that is not symmetric

    torch_x = torch.as_tensor(x, dtype=torch.float32).requires_grad_()
    torch_model.train(training)
    torch_y = torch_model(torch_x)
    (torch_y * torch.as_tensor(weights)).sum().backward()

    tf_x = tf.Variable(nhwc(x))
    with tf.GradientTape() as tape:
        tf_y = tf_model(tf_x, training=training)
        loss = tf.reduce_sum(tf_y * nhwc(weights))
    norm = tf_model.layers[0]
    d_x, d_gamma, d_beta = tape.gradient(loss, [tf_x, norm.gamma, norm.beta])

    assert_close_to_scale("outputs", tf_y, nhwc(as_array(torch_y)), FORWARD)
    assert_close_to_scale("d input", d_x, nhwc(as_array(torch_x.grad)), GRADIENT)
    assert_close_to_scale("d scale", d_gamma, torch_model[0].weight.grad, GRADIENT)
    assert_close_to_scale("d shift", d_beta, torch_model[0].bias.grad, GRADIENT)
    if not training:  # evaluation mode normalises by the running statistics: the closed form
        norm_pt = torch_model[0]
        mean, var = as_array(norm_pt.running_mean), as_array(norm_pt.running_var)
        gamma, beta = as_array(norm_pt.weight), as_array(norm_pt.bias)
        expected = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) * gamma[:, None, None] \
            + beta[:, None, None]
        assert_close_to_scale("eval closed form", as_array(torch_y), expected, FORWARD)


def test_running_statistics_follow_pytorchs_rule_in_both_twins():
    """After three training passes (batches of 2 x 1 x 1 and 4 x 3 x 3 values a channel): running mean
    0.9 old + 0.1 batch mean, running variance 0.9 old + 0.1 n/(n-1) biased batch variance, in both."""
    torch_model, tf_model = _batch_norm_twins()
    norm = torch_model[0]
    mean, var = as_array(norm.running_mean).astype(np.float64), as_array(norm.running_var).astype(np.float64)
    torch_model.train()
    for step, (batch, side) in enumerate([(2, 1), (4, 3), (3, 2)]):
        x = _maps(batch, side, seed=10 + step)
        torch_model(torch.as_tensor(x))
        tf_model(nhwc(x), training=True)
        values = x.transpose(1, 0, 2, 3).reshape(CHANNELS, -1).astype(np.float64)  # (C, n)
        n = values.shape[1]
        mean = 0.9 * mean + 0.1 * values.mean(1)
        var = 0.9 * var + 0.1 * values.var(1) * n / (n - 1)
    keras_norm = tf_model.layers[0]
    for name, got_torch, got_tf, expected in (("running mean", norm.running_mean, keras_norm.moving_mean, mean),
                                              ("running var", norm.running_var, keras_norm.moving_variance, var)):
        assert_close_to_scale(f"{name}, PyTorch", got_torch, expected, FORWARD)
        assert_close_to_scale(f"{name}, Keras twin", got_tf, expected, FORWARD)


def test_batch_norm_conventions_are_declared_alike():
    """PyTorch's momentum weights the new batch, Keras' the old estimate: 0.1 is 0.9; epsilon 1e-5 in both."""
    torch_norm, keras_norm = pt_layers.BatchNorm(4), tf_layers.BatchNorm()
    assert isinstance(torch_norm, nn.BatchNorm2d) and isinstance(keras_norm, keras.layers.BatchNormalization)
    assert torch_norm.momentum == pytest.approx(1 - keras_norm.momentum) and torch_norm.momentum == pytest.approx(0.1)
    assert torch_norm.eps == keras_norm.epsilon == pytest.approx(1e-5)
    assert torch_norm.track_running_stats and torch_norm.affine


@pytest.mark.parametrize("shape", [(300, 40), (64, 8, 5, 5)])
def test_glorot_is_uniform_within_the_glorot_bound_with_zero_biases(shape):
    """U(-a, a), a = sqrt(6 / (fan_in + fan_out)) (fans times the kernel area): max near a, variance a^2 / 3."""
    torch.manual_seed(0)
    keras.utils.set_random_seed(0)
    if len(shape) == 2:
        out_features, in_features = shape
        torch_layer = pt_layers.glorot(nn.Linear(in_features, out_features))
        keras_layer = keras.layers.Dense(out_features, **tf_layers.GLOROT)
        keras_layer.build((None, in_features))
        fan_in, fan_out = in_features, out_features
    else:
        out_channels, in_channels, kh, kw = shape
        torch_layer = pt_layers.glorot(nn.Conv2d(in_channels, out_channels, (kh, kw)))
        keras_layer = keras.layers.Conv2D(out_channels, (kh, kw), **tf_layers.GLOROT)
        keras_layer.build((None, 9, 9, in_channels))
        fan_in, fan_out = in_channels * kh * kw, out_channels * kh * kw
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    for name, weight, bias in (("PyTorch", torch_layer.weight, torch_layer.bias),
                               ("Keras", keras_layer.kernel, keras_layer.bias)):
        weight = as_array(weight)
        assert weight.size == np.prod(shape), name
        assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.98 * bound, name
        assert weight.var() == pytest.approx(bound**2 / 3, rel=0.08), name
        assert abs(weight.mean()) < 0.05 * bound, name
        np.testing.assert_array_equal(as_array(bias), 0.0, err_msg=name)


def test_normal_weights_draw_the_dcgan_papers_normal():
    """Convolutions N(0, 0.02) with zero biases, batch-norm scales N(1, 0.02) and zero shifts (PyTorch);
    the Keras initializer N(0, 0.02)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(16, 32, 4), nn.ConvTranspose2d(32, 16, 4), pt_layers.BatchNorm(4096))
    model.apply(pt_layers.normal_weights)
    for layer in model[:2]:
        weight = as_array(layer.weight)
        assert weight.std() == pytest.approx(0.02, rel=0.05) and abs(weight.mean()) < 0.002
        np.testing.assert_array_equal(as_array(layer.bias), 0.0)
    scale = as_array(model[2].weight)
    assert scale.std() == pytest.approx(0.02, rel=0.05) and scale.mean() == pytest.approx(1.0, abs=0.002)
    np.testing.assert_array_equal(as_array(model[2].bias), 0.0)
    keras.utils.set_random_seed(0)
    kernel = as_array(tf_layers.normal_weights()((4, 4, 16, 32)))
    assert kernel.std() == pytest.approx(0.02, rel=0.05) and abs(kernel.mean()) < 0.002


def test_embedding_rows_are_uniform_in_minus_one_one_and_look_up_alike():
    torch.manual_seed(0)
    keras.utils.set_random_seed(0)
    torch_table, keras_table = pt_layers.embedding(500, 20), tf_layers.embedding(500, 20)
    ids = np.array([[0, 7, 499], [3, 3, 42]])
    keras_table(ids)  # build
    for name, table in (("PyTorch", torch_table.weight), ("Keras", keras_table.embeddings)):
        rows = as_array(table)
        assert rows.shape == (500, 20), name
        assert np.abs(rows).max() <= 1.0 and np.abs(rows).max() > 0.99, name
        assert rows.var() == pytest.approx(1 / 3, rel=0.05), name
    copy_weights(nn.Sequential(torch_table), keras.Sequential([keras_table]), LAYERS)
    expected = as_array(torch_table.weight)[ids]  # the lookup is row indexing
    assert_close_to_scale("lookup, PyTorch", torch_table(torch.as_tensor(ids)), expected, 0.0)
    assert_close_to_scale("lookup, Keras", keras_table(ids), expected, 0.0)
    for make in (pt_layers.embedding, tf_layers.embedding):
        with pytest.raises(ValueError, match="vocab_size and embedding_dim"):
            make(0, 4)


def test_the_pytorch_lstm_starts_with_keras_biases():
    """keras_recurrent_init gives PyTorch's LSTM the bias Keras' LSTM starts with (forget gate 1, the rest 0)."""
    hidden = 5
    keras_lstm = keras.layers.LSTM(hidden)
    keras_lstm(np.zeros((1, 2, 3), np.float32))
    _, _, keras_bias_ih, keras_bias_hh = recurrent_to_torch("LSTM", *[np.asarray(v) for v in keras_lstm.get_weights()])
    torch_lstm = pt_layers.keras_recurrent_init(nn.LSTM(3, hidden))
    np.testing.assert_array_equal(as_array(torch_lstm.bias_ih_l0), keras_bias_ih)
    np.testing.assert_array_equal(as_array(torch_lstm.bias_hh_l0), keras_bias_hh)
    assert as_array(torch_lstm.bias_ih_l0)[hidden:2 * hidden].tolist() == [1.0] * hidden


class _TorchPair(pt_layers.ExplicitWeights):
    def __init__(self):
        self.weights = {"a_w": torch.zeros(2, 3, requires_grad=True), "a_b": torch.zeros(3, requires_grad=True)}


class _KerasPair(tf_layers.ExplicitWeights):
    def __init__(self):
        self.weights = {"a_w": tf.Variable(tf.zeros([2, 3])), "a_b": tf.Variable(tf.zeros([3]))}


def test_explicit_weights_move_by_name_in_both_twins():
    values = {"a_w": np.arange(6, dtype=np.float32).reshape(2, 3), "a_b": np.array([1.0, -2.0, 0.5], np.float32)}
    torch_model, tf_model = _TorchPair(), _KerasPair()
    first = torch_model.parameters()[0]
    torch_model.set_weights(values)
    copy_weights(torch_model, tf_model, family("gan"))  # an explicit-weights family: get_weights -> set_weights
    for model in (torch_model, tf_model):
        got = model.get_weights()
        assert list(got) == ["a_w", "a_b"]
        for name in values:
            np.testing.assert_array_equal(got[name], values[name])
        assert [tuple(p.shape) for p in model.parameters()] == [(2, 3), (3,)]
        with pytest.raises(ValueError, match="a_w: expected shape"):
            model.set_weights({"a_w": np.zeros((3, 2)), "a_b": np.zeros(3)})
    assert torch_model.parameters()[0] is first  # set in place: an optimiser built before still holds it
    got = torch_model.get_weights()
    got["a_w"][:] = 0  # a copy, not a view of the weights
    assert as_array(torch_model.weights["a_w"]).sum() == 15
    moved = torch_model.to("cpu")
    assert moved is torch_model and all(p.is_leaf and p.requires_grad for p in torch_model.parameters())


def test_check_positive_names_every_size_below_one():
    for check in (pt_layers.check_positive, tf_layers.check_positive):
        check(a=1, b=7)
        with pytest.raises(ValueError, match=r"positive \(>= 1\): b=0, c=-2$"):
            check(a=1, b=0, c=-2)


def _public(module) -> set[str]:
    """The names a module defines: its functions, classes and constants (not what it imports)."""
    def defined_here(value) -> bool:
        if inspect.isfunction(value) or inspect.isclass(value):
            return value.__module__ == module.__name__
        return not inspect.ismodule(value)

    return {name for name, value in vars(module).items()
            if not name.startswith("_") and name != "annotations" and defined_here(value)}


def test_twins_have_the_same_names_and_signatures():
    """The same public names, but for what only one framework needs (PyTorch re-initialises built layers,
    Keras takes initialisers by keyword); the same arguments where the names are functions of both."""
    shared = {*LAYERS.classes, "EMBEDDING_INIT", "NORMAL_STD"}
    assert _public(pt_layers) == shared | {"glorot", "keras_recurrent_init"}
    assert _public(tf_layers) == shared | {"GLOROT"}
    assert pt_layers.EMBEDDING_INIT == tf_layers.EMBEDDING_INIT and pt_layers.NORMAL_STD == tf_layers.NORMAL_STD
    assert_same_signatures(pt_layers, tf_layers, ("embedding", "check_positive"))
    for method in ("parameters", "get_weights", "set_weights"):
        assert_same_signatures(pt_layers.ExplicitWeights, tf_layers.ExplicitWeights, (method,))
    assert tf_layers.GLOROT == {"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"}
