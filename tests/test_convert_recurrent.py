"""Recurrent layers and embeddings between the twins: layout, gate order, biases (torchflow.convert).

Every recurrent chapter (RNN, embeddings' tagger, seq2seq) moves weights through
these paths, so they are tested here once on bare layers: PyTorch's module and
Keras' layer, given the same weights, produce the same sequence of hidden
states, the same final states and the same gradients.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from parity import FORWARD, GRADIENT, assert_close_to_scale

import torchflow  # noqa: F401  isort: skip
import keras  # isort: skip
import tensorflow as tf  # isort: skip
import torch  # isort: skip
from torch import nn  # isort: skip

from torchflow.convert import copy_torch_to_keras, keras_state, recurrent_to_keras, recurrent_to_torch
from torchflow.pt.layers import keras_recurrent_init

IN, HIDDEN, BATCH, STEPS = 5, 7, 3, 6
TORCH = {"SimpleRNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
KERAS = {"SimpleRNN": keras.layers.SimpleRNN, "LSTM": keras.layers.LSTM, "GRU": keras.layers.GRU}


def _random_state(module: nn.Module, seed: int = 0) -> None:
    """Non-zero values everywhere, both PyTorch biases included, so that a wrong order or sum shows."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for value in module.parameters():
            value.copy_(torch.randn(value.shape, generator=generator) * 0.5)


def _torch_state_of(layer: nn.Module) -> dict[str, np.ndarray]:
    return {f"rnn.{k}": v.detach().numpy().copy() for k, v in layer.state_dict().items()}


def _copy(torch_layer: nn.Module, keras_layer) -> None:
    copy_torch_to_keras(_torch_state_of(torch_layer), SimpleNamespace(rnn=keras_layer))


@pytest.mark.parametrize("bidirectional", [False, True], ids=["one-way", "bidirectional"])
@pytest.mark.parametrize("kind", sorted(TORCH))
def test_recurrent_layer_outputs_and_gradients_agree(kind, bidirectional):
    torch_layer = TORCH[kind](IN, HIDDEN, batch_first=True, bidirectional=bidirectional)
    _random_state(torch_layer)
    keras_layer = KERAS[kind](HIDDEN, return_sequences=True)
    if bidirectional:
        keras_layer = keras.layers.Bidirectional(keras_layer, merge_mode="concat")
    keras_layer(np.zeros((1, STEPS, IN), np.float32))
    _copy(torch_layer, keras_layer)

    x = np.random.default_rng(1).normal(size=(BATCH, STEPS, IN)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    torch_out = torch_layer(xt)[0]
    xk = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xk)
        keras_out = keras_layer(xk)
        keras_loss = tf.reduce_sum(keras_out ** 2)
    assert_close_to_scale(f"{kind} outputs", keras_out, torch_out, FORWARD)
    (torch_out ** 2).sum().backward()
    assert_close_to_scale(f"{kind} input gradient", tape.gradient(keras_loss, xk), xt.grad, GRADIENT)


@pytest.mark.parametrize("kind", sorted(TORCH))
def test_round_trip_through_keras_keeps_what_the_layer_computes(kind):
    torch_layer = TORCH[kind](IN, HIDDEN, batch_first=True)
    _random_state(torch_layer)
    keras_layer = KERAS[kind](HIDDEN)
    keras_layer(np.zeros((1, STEPS, IN), np.float32))
    _copy(torch_layer, keras_layer)
    back = keras_state(SimpleNamespace(rnn=keras_layer), ["rnn"])
    original = _torch_state_of(torch_layer)
    assert set(back) == set(original)
    for key in ("rnn.weight_ih_l0", "rnn.weight_hh_l0"):
        np.testing.assert_allclose(back[key], original[key], rtol=1e-6)
    # biases: the GRU keeps both; LSTM and RNN keep their sum (Keras has one bias), bias_hh comes back zero
    if kind == "GRU":
        np.testing.assert_allclose(back["rnn.bias_hh_l0"], original["rnn.bias_hh_l0"], rtol=1e-6)
    else:
        np.testing.assert_array_equal(back["rnn.bias_hh_l0"], 0.0)
    np.testing.assert_allclose(back["rnn.bias_ih_l0"] + back["rnn.bias_hh_l0"],
                               original["rnn.bias_ih_l0"] + original["rnn.bias_hh_l0"], rtol=1e-6)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_cells_agree_step_by_step(kind):
    torch_cell = {"LSTM": nn.LSTMCell, "GRU": nn.GRUCell}[kind](IN, HIDDEN)
    _random_state(torch_cell)
    keras_cell = {"LSTM": keras.layers.LSTMCell, "GRU": keras.layers.GRUCell}[kind](HIDDEN)
    keras_cell.build((None, IN))
    copy_torch_to_keras({f"cell.{k}": v.detach().numpy() for k, v in torch_cell.state_dict().items()},
                        SimpleNamespace(cell=keras_cell))
    x = np.random.default_rng(2).normal(size=(BATCH, IN)).astype(np.float32)
    h = np.random.default_rng(3).normal(size=(BATCH, HIDDEN)).astype(np.float32)
    if kind == "LSTM":
        c = np.random.default_rng(4).normal(size=(BATCH, HIDDEN)).astype(np.float32)
        torch_h, torch_c = torch_cell(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
        keras_h, (_, keras_c) = keras_cell(tf.constant(x), [tf.constant(h), tf.constant(c)])
        assert_close_to_scale("cell state", keras_c, torch_c, FORWARD)
    else:
        torch_h = torch_cell(torch.tensor(x), torch.tensor(h))
        keras_h, _ = keras_cell(tf.constant(x), tf.constant(h))
    assert_close_to_scale("hidden state", keras_h, torch_h, FORWARD)


def test_embedding_table_is_copied_unchanged():
    torch_embedding = nn.Embedding(11, 4)
    keras_embedding = keras.layers.Embedding(11, 4)
    keras_embedding.build((None,))
    copy_torch_to_keras({"embed.weight": torch_embedding.weight.detach().numpy()},
                        SimpleNamespace(embed=keras_embedding))
    ids = np.array([[0, 3, 10], [5, 5, 1]])
    assert_close_to_scale("lookup", keras_embedding(ids), torch_embedding(torch.tensor(ids)), FORWARD)
    back = keras_state(SimpleNamespace(embed=keras_embedding), ["embed"])
    np.testing.assert_array_equal(back["embed.weight"], torch_embedding.weight.detach().numpy())


def test_gru_gate_order_is_swapped_and_bad_input_is_refused():
    weight = np.arange(3 * 2 * 1, dtype=np.float32).reshape(6, 1)  # blocks r=[0,1], z=[2,3], n=[4,5]
    kernel, _ = recurrent_to_keras("GRU", weight, weight)
    np.testing.assert_array_equal(kernel[0], [2, 3, 0, 1, 4, 5])
    back = recurrent_to_torch("GRU", kernel, kernel.copy())
    np.testing.assert_array_equal(back[0], weight)
    with pytest.raises(ValueError, match="unknown recurrent kind"):
        recurrent_to_keras("Transformer", weight, weight)
    with pytest.raises(ValueError, match="reset_after"):
        recurrent_to_torch("GRU", kernel, kernel, np.zeros(6, np.float32))


def test_multi_layer_torch_module_is_refused():
    torch_layer = nn.LSTM(IN, HIDDEN, num_layers=2, batch_first=True)
    keras_layer = keras.layers.LSTM(HIDDEN)
    keras_layer(np.zeros((1, STEPS, IN), np.float32))
    with pytest.raises(ValueError, match="multi-layer"):
        _copy(torch_layer, keras_layer)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_keras_recurrent_init_draws_the_keras_scheme(kind):
    module = keras_recurrent_init(getattr(nn, kind)(IN, 16), torch.Generator().manual_seed(0))
    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[kind]
    limit = np.sqrt(6.0 / (IN + gates * 16))
    w_ih = module.weight_ih_l0.detach().numpy()
    assert np.abs(w_ih).max() <= limit and np.abs(w_ih).max() > 0.8 * limit
    w_hh = module.weight_hh_l0.detach().numpy()  # (gates*H, H): orthonormal columns
    np.testing.assert_allclose(w_hh.T @ w_hh, np.eye(16), atol=1e-5)
    bias = module.bias_ih_l0.detach().numpy()
    expected = np.zeros(gates * 16)
    if kind == "LSTM":
        expected[16:32] = 1.0
    np.testing.assert_array_equal(bias, expected)
    np.testing.assert_array_equal(module.bias_hh_l0.detach().numpy(), 0.0)
    assert module.bias_hh_l0.requires_grad == (kind == "GRU")
    with pytest.raises(ValueError, match="expects nn.RNN"):
        keras_recurrent_init(nn.Linear(2, 2))
