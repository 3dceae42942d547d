"""Parity of the RNN chapter's twins (family ``rnn``: ``SurnameClassifier``, ``SurnameGenerator``,
``RowLSTM``, ``CharRNN``).

One set of PyTorch weights is copied into the Keras twin (:func:`torchflow.convert.copy_weights`,
which maps the gate order and the biases); both then agree on outputs, losses and the gradient of
every weight, on a padded batch of names of different lengths (PyTorch packs it, Keras masks it),
and train alike from those weights. Tolerances: ``tests/parity.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from parity import (
    FORWARD,
    GRADIENT,
    as_array,
    assert_close_to_scale,
    assert_same_signatures,
    assert_trajectory_within,
    dense_gradients_step,
    drift,
    keras_floatx,
    real_images,
    run_trajectory,
    torch_step,
    trajectory_drifts,
    twin_optimisers,
    twin_states,
)

import torch  # isort: skip
import tensorflow as tf  # isort: skip

from torchflow.convert import copy_weights, keras_state, torch_state
from torchflow.families import family
from torchflow.prep.characters import Alphabet, name_targets, one_hot, pad, text_streams
from torchflow.pt import rnn as pt_rnn
from torchflow.tf import rnn as tf_rnn

RNN = family("rnn")
NAMES = ["Schmidhuber", "Hinton", "Ng", "Bengio", "Li", "LeCun"]  # lengths 11, 6, 2, 6, 2, 5
ALPHABET = Alphabet.of(NAMES, end=True)
CELLS = ("rnn", "gru", "lstm")


def _twins(cls_name: str, dtype: str = "float32", seed: int = 0, **kwargs):
    torch.manual_seed(seed)
    torch_model = RNN.build("torch", cls_name, **kwargs)
    with keras_floatx(dtype):
        tf_model = RNN.build("tensorflow", cls_name, **kwargs)
    copy_weights(torch_model, tf_model, RNN)
    return torch_model.to(getattr(torch, dtype)), tf_model


def _names(dtype: str = "float32"):
    padded, lengths = pad([ALPHABET.encode(n) for n in NAMES])
    return one_hot(padded, len(ALPHABET), dtype), lengths, padded


def _keras_gradients(tf_model, gradients, names) -> dict[str, np.ndarray]:
    """Keras gradients in PyTorch's layout and names: the same mapping as the weights (it is linear)."""
    saved = [v.numpy() for v in tf_model.trainable_variables]
    for variable, gradient in zip(tf_model.trainable_variables, gradients, strict=True):
        variable.assign(gradient)
    state = keras_state(tf_model, names)
    for variable, value in zip(tf_model.trainable_variables, saved, strict=True):
        variable.assign(value)
    return state


def _assert_gradients_agree(torch_model, tf_model, tf_gradients) -> None:
    torch_grads = {n: p.grad for n, p in torch_model.named_parameters() if p.requires_grad}
    keras_grads = _keras_gradients(tf_model, tf_gradients, dict.fromkeys(n.rsplit(".", 1)[0] for n in torch_grads))
    for name, grad in torch_grads.items():
        assert np.abs(as_array(grad)).max() > 0, f"{name} has no gradient"
        assert_close_to_scale(f"gradient of {name}", keras_grads[name], grad, GRADIENT)
    frozen = [n for n, p in torch_model.named_parameters() if not p.requires_grad]
    assert all(n.startswith("rnn.bias_hh") or n.startswith("lstm.bias_hh") for n in frozen), frozen


@pytest.mark.parametrize("cell", CELLS)
def test_classifier_twins_agree_on_a_padded_batch(cell):
    torch_model, tf_model = _twins("SurnameClassifier", num_letters=len(ALPHABET), num_classes=5, cell=cell)
    letters, lengths, _ = _names()
    labels = np.arange(len(NAMES)) % 5
    torch_logits = torch_model(torch.as_tensor(letters), torch.as_tensor(lengths))
    torch_loss = torch.nn.functional.cross_entropy(torch_logits, torch.as_tensor(labels))
    torch_loss.backward()
    with tf.GradientTape() as tape:
        tf_logits = tf_model(tf.constant(letters), tf.constant(lengths))
        tf_loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf_logits))
    assert_close_to_scale("logits", tf_logits, torch_logits, FORWARD)
    assert_close_to_scale("loss", tf_loss, torch_loss, FORWARD)
    _assert_gradients_agree(torch_model, tf_model, tape.gradient(tf_loss, tf_model.trainable_variables))


@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
@pytest.mark.parametrize("cell", CELLS)
def test_padding_does_not_change_a_prediction(framework, cell):
    """Each name alone (no padding) and inside the padded batch: the same logits. Without the
    lengths (packing / masking), the padded steps would change every name shorter than the longest."""
    model = RNN.build(framework, "SurnameClassifier", num_letters=len(ALPHABET), num_classes=5, cell=cell)
    letters, lengths, _ = _names()
    as_input = torch.as_tensor if framework == "torch" else tf.constant
    batch = as_array(model(as_input(letters), as_input(lengths)))
    unmasked = as_array(model(as_input(letters)))
    for row, length in enumerate(lengths):
        alone = as_array(model(as_input(letters[row : row + 1, :length])))[0]
        assert_close_to_scale(f"{NAMES[row]} alone", batch[row], alone, FORWARD)
    short = lengths < lengths.max()
    assert np.abs(unmasked[short] - batch[short]).max() > 1e-3, "padding should matter without the lengths"


@pytest.mark.parametrize("cell", CELLS)
def test_generator_twins_agree_on_a_padded_batch(cell):
    torch_model, tf_model = _twins("SurnameGenerator", num_letters=len(ALPHABET), num_languages=4, cell=cell)
    letters, lengths, padded = _names()
    targets = name_targets(padded, lengths, ALPHABET.end_index)
    languages = np.arange(len(NAMES)) % 4
    torch_logits, _ = torch_model(torch.as_tensor(letters), torch.as_tensor(languages))
    torch_loss = torch_model.next_letter_loss(*(torch.as_tensor(a) for a in (letters, languages, targets)))
    torch_loss.backward()
    with tf.GradientTape() as tape:
        tf_loss = tf_model.next_letter_loss(tf.constant(letters), tf.constant(languages), tf.constant(targets))
    tf_logits, _ = tf_model(tf.constant(letters), tf.constant(languages))
    real = padded >= 0  # the outputs at padded steps are never used
    assert_close_to_scale("logits at real steps", as_array(tf_logits)[real], as_array(torch_logits)[real], FORWARD)
    assert_close_to_scale("loss", tf_loss, torch_loss, FORWARD)
    _assert_gradients_agree(torch_model, tf_model, tape.gradient(tf_loss, tf_model.trainable_variables))


def test_generator_loss_is_summed_over_the_real_steps():
    """The loss of the padded batch is the mean over names of each name's loss computed alone."""
    model = RNN.build("torch", "SurnameGenerator", num_letters=len(ALPHABET), num_languages=4)
    letters, lengths, padded = _names()
    targets = name_targets(padded, lengths, ALPHABET.end_index)
    languages = np.arange(len(NAMES)) % 4
    batch = model.next_letter_loss(*(torch.as_tensor(a) for a in (letters, languages, targets))).item()
    alone = [model.next_letter_loss(torch.as_tensor(letters[i : i + 1, :n]), torch.as_tensor(languages[i : i + 1]),
                        torch.as_tensor(targets[i : i + 1, :n])).item() for i, n in enumerate(lengths)]
    assert batch == pytest.approx(np.mean(alone), rel=1e-5)
    assert targets[0, lengths[0] - 1] == ALPHABET.end_index and targets[0, 0] == padded[0, 1]


@pytest.mark.parametrize("unrolled", [False, True], ids=["fused", "unrolled"])
def test_row_lstm_twins_agree_fused_and_unrolled(unrolled):
    torch_model, tf_model = _twins("RowLSTM", hidden_dim=16)
    images, labels = real_images(8)
    images = images[:, 0]
    torch_logits = torch_model(torch.as_tensor(images), unrolled=unrolled)
    torch_loss = torch.nn.functional.cross_entropy(torch_logits, torch.as_tensor(labels))
    torch_loss.backward()
    with tf.GradientTape() as tape:
        tf_logits = tf_model(tf.constant(images), unrolled=unrolled)
        tf_loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf_logits))
    assert_close_to_scale("logits", tf_logits, torch_logits, FORWARD)
    assert_close_to_scale("loss", tf_loss, torch_loss, FORWARD)
    _assert_gradients_agree(torch_model, tf_model, tape.gradient(tf_loss, tf_model.trainable_variables))
    # the written-out loop is the fused layer, in each framework
    for model, as_input in ((torch_model, torch.as_tensor), (tf_model, tf.constant)):
        assert_close_to_scale("unrolled hidden states", model.hidden_states(as_input(images), unrolled=True),
                              model.hidden_states(as_input(images)), FORWARD)


def _text(count: int = 4000) -> tuple[np.ndarray, Alphabet]:
    from torchflow.data.shakespeare import load_shakespeare

    text = load_shakespeare(source="embedded").text[:count]
    alphabet = Alphabet.of(text)
    return alphabet.encode(text), alphabet


@pytest.mark.parametrize("cell", CELLS)
def test_char_rnn_twins_agree_with_a_carried_state(cell):
    """Two consecutive batches, the state of the first carried into the second (PyTorch detaches it)."""
    indices, alphabet = _text()
    rows = text_streams(indices, 4)
    torch_model, tf_model = _twins("CharRNN", vocab_size=len(alphabet), hidden_dim=16, cell=cell)
    first, second = rows[:, :10], rows[:, 10:20]
    targets = rows[:, 11:21]
    _, torch_state = torch_model(torch.as_tensor(first))
    torch_state = tuple(s.detach() for s in torch_state) if cell == "lstm" else torch_state.detach()
    torch_logits, _ = torch_model(torch.as_tensor(second), torch_state)
    torch_loss = torch.nn.functional.cross_entropy(torch_logits.transpose(1, 2), torch.as_tensor(targets))
    torch_loss.backward()
    _, tf_state = tf_model(tf.constant(first))
    with tf.GradientTape() as tape:
        tf_logits, _ = tf_model(tf.constant(second), tf_state)
        tf_loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(targets, tf_logits))
    assert_close_to_scale("logits", tf_logits, torch_logits, FORWARD)
    assert_close_to_scale("loss", tf_loss, torch_loss, FORWARD)
    _assert_gradients_agree(torch_model, tf_model, tape.gradient(tf_loss, tf_model.trainable_variables))


def test_twins_have_the_same_signatures():
    assert_same_signatures(pt_rnn, tf_rnn, (*RNN.classes, "recurrent_layer", "sequence_loss"))
    for cls_name in RNN.classes:
        for method in ("next_letter_loss", "hidden_states"):
            if hasattr(getattr(pt_rnn, cls_name), method) and method != "forward":
                assert hasattr(getattr(tf_rnn, cls_name), method), (cls_name, method)


def test_both_twins_draw_the_same_initialisation():
    """Keras' scheme in both: orthogonal recurrent kernel, zero biases but the LSTM's forget gate (1),
    Glorot input kernel and dense layers, embeddings U(-0.05, 0.05)."""
    torch.manual_seed(0)
    torch_model = RNN.build("torch", "CharRNN", hidden_dim=64)
    tf_model = RNN.build("tensorflow", "CharRNN", hidden_dim=64)
    for state in (torch_state(torch_model), keras_state(tf_model, ["embedding", "rnn", "fc"])):
        recurrent = state["rnn.weight_hh_l0"]  # (4H, H): orthonormal columns
        np.testing.assert_allclose(recurrent.T @ recurrent, np.eye(64), atol=1e-4)
        bias = state["rnn.bias_ih_l0"] + state["rnn.bias_hh_l0"]
        np.testing.assert_array_equal(bias, np.r_[np.zeros(64), np.ones(64), np.zeros(128)])
        kernel = state["rnn.weight_ih_l0"]
        assert kernel.var() == pytest.approx(2 / sum(kernel.shape), rel=0.15)
        assert np.abs(state["embedding.weight"]).max() <= 0.05
        assert not state["fc.bias"].any()
    assert not torch_model.rnn.bias_hh_l0.requires_grad  # Keras has one bias: PyTorch's second stays zero


def test_bad_arguments_are_clear_errors():
    for module in (pt_rnn, tf_rnn):
        with pytest.raises(ValueError, match="unknown cell"):
            module.SurnameClassifier(cell="transformer")
        with pytest.raises(ValueError, match="hidden_dim"):
            module.RowLSTM(hidden_dim=0)
    with pytest.raises(ValueError, match="not in the alphabet"):
        ALPHABET.encode("Zz?")
    with pytest.raises(ValueError, match="shorter"):
        pad([np.arange(5)], length=3)
    with pytest.raises(ValueError, match="end-of-name"):
        _ = Alphabet("abc").end_index
    with pytest.raises(ValueError, match="streams"):
        text_streams(np.arange(10), 8)


# ----------------------------------------------------------------- trajectories
def _surname_batches(steps: int, batch: int, dtype: str, generator: bool):
    from torchflow.data.surnames import load_surnames

    data = load_surnames(ascii_only=True, source="embedded")
    alphabet = Alphabet.of(data.names, end=generator)
    padded, lengths = pad([alphabet.encode(n) for n in data.names])
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(steps):
        index = rng.choice(len(padded), batch, replace=False)
        width = int(lengths[index].max())
        letters = one_hot(padded[index, :width], len(alphabet), dtype)
        if generator:
            batches.append((letters, data.labels[index], name_targets(padded[index, :width], lengths[index],
                                                                      alphabet.end_index)))
        else:
            batches.append((letters, lengths[index], data.labels[index]))
    return batches, len(alphabet), len(data.languages)


def _losses(cls_name: str, torch_model, tf_model):
    if cls_name == "SurnameClassifier":
        return (lambda x, n, y: torch.nn.functional.cross_entropy(torch_model(x, n), y),
                lambda x, n, y: tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, tf_model(x, n))))
    if cls_name == "SurnameGenerator":
        return torch_model.next_letter_loss, tf_model.next_letter_loss
    if cls_name == "RowLSTM":
        return (lambda x, y: torch.nn.functional.cross_entropy(torch_model(x), y),
                lambda x, y: tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, tf_model(x))))
    return (lambda x, y: torch.nn.functional.cross_entropy(torch_model(x)[0].transpose(1, 2), y),
            lambda x, y: tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, tf_model(x)[0])))


def _trajectory(cls_name: str, dtype: str = "float32", steps: int = 60):
    """Both twins from one set of weights, Adam (lr 3e-3, epsilon 1e-8) on the same real batches of 32."""
    if cls_name.startswith("Surname"):
        batches, letters, languages = _surname_batches(steps, 32, dtype, cls_name == "SurnameGenerator")
        kwargs = ({"num_letters": letters, "num_classes": languages} if cls_name == "SurnameClassifier"
                  else {"num_letters": letters, "num_languages": languages})
        kwargs["hidden_dim"] = 32
    elif cls_name == "RowLSTM":
        images, labels = real_images(32 * steps)
        images = images[:, 0].astype(dtype)
        batches = [(images[i * 32 : (i + 1) * 32], labels[i * 32 : (i + 1) * 32]) for i in range(steps)]
        kwargs = {"hidden_dim": 32}
    else:
        indices, alphabet = _text(32 * 26 * steps)
        rows = indices[: 32 * 26 * steps].reshape(steps, 32, 26)
        batches = [(row[:, :25], row[:, 1:]) for row in rows]
        kwargs = {"vocab_size": len(alphabet), "hidden_dim": 32}
    torch_model, tf_model = _twins(cls_name, dtype=dtype, **kwargs)
    start, tf_start = twin_states(torch_model, tf_model, RNN)
    assert drift(tf_start, start) == 0, "the twins do not start from the same weights"
    with keras_floatx(dtype):
        torch_opt, tf_opt = twin_optimisers("adam", [p for p in torch_model.parameters() if p.requires_grad],
                                            learning_rate=3e-3, epsilon=1e-8, exact=dtype == "float64")
    torch_loss, tf_loss = _losses(cls_name, torch_model, tf_model)
    tf_update = dense_gradients_step(tf_model.trainable_variables, tf_opt, tf_loss)  # as the char-RNN page
    torch_losses, tf_losses = run_trajectory(torch_step(torch_model.parameters, torch_opt, torch_loss), tf_update,
                                             batches)
    return trajectory_drifts(start, *twin_states(torch_model, tf_model, RNN), torch_losses, tf_losses)


# Measured (x86-64, AVX-512), 60 steps, (loss drift relative, weight drift of each tensor's scale):
# float32: SurnameClassifier (GRU) 3.5e-5 and 4.7e-2, SurnameGenerator (GRU) 1.3e-5 and 2.5e-2,
# RowLSTM 1.3e-3 and 5.8e-3, CharRNN (LSTM) 1.4e-3 and 5.8e-2; float64: at most 2.4e-15 and 2.9e-14.
# Asserted: about five times the float32 figures, about forty times the float64 ones.
FLOAT32_BOUNDS = {"SurnameClassifier": (1e-3, 0.25), "SurnameGenerator": (1e-3, 0.15), "RowLSTM": (1e-2, 0.05),
                  "CharRNN": (1e-2, 0.3)}
FLOAT64_LOSS, FLOAT64_WEIGHTS = 1e-13, 1e-12


@pytest.mark.parametrize("cls_name", RNN.classes)
def test_trajectory_twins_train_alike(cls_name):
    """60 Adam steps (lr 3e-3, epsilon 1e-8) of batch 32 on real data (embedded sources), float32.

    Measured: see FLOAT32_BOUNDS' comment; the float64 test shows the drift is rounding noise.
    """
    loss, weights = FLOAT32_BOUNDS[cls_name]
    assert_trajectory_within(cls_name, _trajectory(cls_name), loss=loss, weights=weights)


@pytest.mark.parametrize("cls_name", RNN.classes)
def test_trajectory_float64_twins_train_identically(cls_name):
    """The same 60 steps in float64, PyTorch's Adam computing Keras' update exactly (parity.KerasAdam)."""
    assert_trajectory_within(f"float64 {cls_name}", _trajectory(cls_name, dtype="float64"),
                             loss=FLOAT64_LOSS, weights=FLOAT64_WEIGHTS)


def test_ngram_baselines_and_sampling_helpers():
    from torchflow.metrics import ngram_bits_per_char
    from torchflow.training import sample_sequence

    uniform = np.tile(np.arange(4), 100)  # every character equally frequent; each follows one other
    assert ngram_bits_per_char(uniform, uniform, 4, order=1) == pytest.approx(2.0, abs=0.01)
    assert ngram_bits_per_char(uniform, uniform, 4, order=2) < 0.05
    with pytest.raises(ValueError, match="order"):
        ngram_bits_per_char(uniform, uniform, 4, order=3)

    def step(ids, state):  # a "model" that always prefers index 2, and never the others much
        return np.array([0.0, 0.0, 5.0, -5.0]), state

    draws = [sample_sequence(step, [0], 20, 0.5, np.random.default_rng(0)) for _ in range(2)]
    assert draws[0] == draws[1] and draws[0].count(2) >= 18  # the same generator draws alike
    stopped = sample_sequence(step, [0], 20, 1.0, np.random.default_rng(0), stop=2)
    assert 2 not in stopped and len(stopped) < 20  # the stop index ends the sequence and is not kept
    with pytest.raises(ValueError, match="temperature"):
        sample_sequence(step, [0], 5, 0.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="first"):
        sample_sequence(step, [], 5, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="indices"):
        one_hot(np.array([4]), 4)
