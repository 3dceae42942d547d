"""The one parity helper of the book: how twins are compared, and the one tolerance rule.

Tolerance rule. A tensor ``got`` computed by one twin agrees with ``expected``
computed by the other when, element by element,

    |got - expected| <= k * max|expected| + RTOL * |expected|

that is, each tensor is compared against its own scale (its largest magnitude),
with a small relative term on top. An elementwise relative tolerance alone does
not survive another CPU: a matrix product sums in an order that depends on the
vector instructions (AVX2, AVX-512, ARM NEON), so an element near zero can differ
by float32 noise of the size of the *largest* terms of its sum (issue 10: 1.5e-6
on an element of 0.0147). ``k`` says how deep the computation is:

* ``FORWARD`` (1e-5): activations, outputs and losses of shallow networks;
* ``GRADIENT`` (1e-4): gradients, which sum a batch of products;
* ``DEEP`` (1e-4) and ``DEEP_GRADIENT`` (1e-3): ResNet-18, twenty layers deep;
* trajectories (many optimiser steps) state their own ``k``, measured, in their test.

Trajectories run twice. In float32 (the book's precision) the twins drift apart
over tens of steps: one step agrees to the rules above, but training amplifies
float32 rounding (batch statistics of a few values, Adam's division by sqrt(v),
the sampler's kinks), so those bounds are loose and show only that the drift is
noise of that size. In float64 (``dtype="float64"``: PyTorch ``model.double()``,
Keras built under :func:`keras_floatx`) the same steps agree to about 1e-12: that
strict variant, ``test_trajectory_float64_*`` in each family, is the proof that the
twins compute the same training.

Every parity and trajectory test compares through :func:`assert_close_to_scale`
or :func:`assert_twins_agree`; :func:`drift` is the same measure as a number.
Import with ``from parity import ...`` (pytest puts ``tests/`` on ``sys.path``).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

import numpy as np

import torchflow  # noqa: F401  isort: skip  (first: it loads PyTorch's Triton before TensorFlow, see its frameworks)
import keras  # isort: skip
import tensorflow as tf  # isort: skip
import torch  # isort: skip

from torchflow.convert import conv_to_torch, copy_weights, dense_to_torch, keras_state, torch_state

RTOL = 1e-5
FORWARD, GRADIENT, DEEP, DEEP_GRADIENT = 1e-5, 1e-4, 1e-4, 1e-3


def as_array(value) -> np.ndarray:
    """A PyTorch tensor, TensorFlow tensor or variable, or array-like as a NumPy array."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


def scale_of(expected: np.ndarray) -> float:
    """max|expected|, the scale a tensor is compared against (1 for an all-zero tensor)."""
    scale = float(np.abs(expected).max(initial=0.0))
    return scale if scale > 0 else 1.0


def assert_close_to_scale(name: str, got, expected, k: float = FORWARD) -> None:
    """``got`` agrees with ``expected`` within ``k`` of its scale (the rule in the module docstring)."""
    got, expected = as_array(got), as_array(expected)
    assert got.shape == expected.shape, f"{name}: shape {got.shape} != {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=k * scale_of(expected),
                               err_msg=f"{name} (k={k:g} of its scale {scale_of(expected):.3g})")


def assert_twins_agree(got: Mapping, expected: Mapping, k: float = FORWARD) -> None:
    """The same names, and each tensor within ``k`` of its own scale."""
    assert list(got) == list(expected), f"different tensors: {list(got)} != {list(expected)}"
    for name in expected:
        assert_close_to_scale(name, got[name], expected[name], k)


def drift(got: Mapping, expected: Mapping) -> float:
    """The largest max|got - expected| / max|expected| over the tensors (the rule's measure)."""
    return max(float(np.abs(as_array(got[n]) - as_array(expected[n])).max()) / scale_of(as_array(expected[n]))
               for n in expected)


# ----------------------------------------------------------------- layouts and states
def nhwc(images: np.ndarray) -> np.ndarray:
    """(B, C, H, W) images for PyTorch -> (B, H, W, C) for Keras."""
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1))


def real_images(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` Fashion-MNIST training images (float32 (N, 1, 28, 28) in [0, 1]) and their labels.

    Trajectories train on real images: random ones give near-zero gradients that
    Adam turns into full-size steps, which measures the noise and not the twins.
    Always the embedded subset, which every checkout has: the measured drift (and
    so the tolerances) must not depend on which data source a machine has.
    """
    from torchflow.data import load_images

    train = load_images("fashion-mnist", "train", source="embedded").take(count, seed=seed)
    return (train.images[:, None] / np.float32(255)).astype(np.float32), train.labels


def twin_states(torch_model, tf_model, family) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Both twins' weights (and running statistics) in the PyTorch twin's names and layout."""
    if family.weights == "explicit":
        return torch_model.get_weights(), tf_model.get_weights()
    state = {k: v for k, v in torch_state(torch_model).items() if not k.endswith("num_batches_tracked")}
    flatten_from = family.flatten_from(torch_model) if family.flatten_from else None
    return state, keras_state(tf_model, dict.fromkeys(k.rsplit(".", 1)[0] for k in state), flatten_from)


def gradients_in_torch_layout(torch_model, tf_grads, family) -> tuple[dict, dict]:
    """(PyTorch gradients, Keras gradients in PyTorch layout), keyed by parameter name.

    Keras lists trainable variables layer by layer in the order of creation, as
    PyTorch lists its parameters; shapes are checked after the layout change.
    """
    flatten_from = family.flatten_from(torch_model) if family.flatten_from else {}
    torch_grads = {n: p.grad.numpy() for n, p in torch_model.named_parameters() if p.requires_grad}
    assert len(torch_grads) == len(tf_grads), "the twins train a different number of weights"
    keras_grads = {}
    for name, grad in zip(torch_grads, tf_grads):
        grad = as_array(grad)
        if grad.ndim == 4:
            grad = conv_to_torch(grad)
        elif grad.ndim == 2:
            grad = dense_to_torch(grad, flatten_from.get(name.rsplit(".", 1)[0]))
        keras_grads[name] = grad
    return torch_grads, keras_grads


# ----------------------------------------------------------------- classifiers (layers API)
@contextmanager
def keras_floatx(dtype: str) -> Iterator[None]:
    """Keras creates its weights (and an optimiser its learning rate) in ``dtype`` inside this block.

    Sets the dtype policy too: Keras fixes it from floatx when the first layer is made, after
    which floatx alone no longer changes the layers' dtype.
    """
    previous, previous_policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(previous)
        keras.config.set_dtype_policy(previous_policy)


def classifier_twins(family, seed: int = 0, dtype: str = "float32", **kwargs):
    """Both twins of a classifier family, the Keras one holding the PyTorch one's weights.

    ``dtype="float64"``: the Keras twin is built under :func:`keras_floatx` and the PyTorch twin
    made double after the copy. Its initial weights are float32 numbers, so the copy (which
    passes through float32) is exact; :func:`classifier_trajectory` checks that it is.
    """
    torch.manual_seed(seed)
    torch_model = family.build("torch", **kwargs)
    with keras_floatx(dtype):
        tf_model = family.build("tensorflow", **kwargs)
    copy_weights(torch_model, tf_model, family)
    return torch_model.to(getattr(torch, dtype)), tf_model


def assert_classifier_gradients_agree(torch_model, tf_model, family, images, labels, *, training: bool,
                                      k_loss: float = FORWARD, k_grad: float = GRADIENT) -> None:
    """Same cross-entropy and the same gradient for every trainable weight.

    ``training=True`` runs both twins in training mode (batch norm on batch
    statistics); dropout must then be off (rate 0), or the masks differ.
    """
    torch_model.train(training)
    torch_loss = torch.nn.functional.cross_entropy(torch_model(torch.as_tensor(images)), torch.as_tensor(labels))
    torch_model.zero_grad()
    torch_loss.backward()
    with tf.GradientTape() as tape:
        logits = tf_model(tf.constant(nhwc(images)), training=training)
        tf_loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
    assert_close_to_scale("loss", tf_loss, torch_loss, k_loss)
    torch_grads, keras_grads = gradients_in_torch_layout(
        torch_model, tape.gradient(tf_loss, tf_model.trainable_variables), family)
    for name, grad in torch_grads.items():
        assert np.abs(grad).max() > 0, f"{name} has no gradient"
    assert_twins_agree(keras_grads, torch_grads, k_grad)


# ----------------------------------------------------------------- trajectories
def keras_cast(value: float) -> float:
    """A Python float as Keras' optimisers use it in float64: ``tf.cast(0.9, tf.float64)`` goes through float32."""
    return float(np.float32(value))


class KerasAdam(torch.optim.Adam):
    """PyTorch's Adam computing Keras' update exactly, for the float64 trajectories.

    Keras:   w -= lr sqrt(1 - B2^t) / (1 - B1^t) * m / (sqrt(v) + eps)
    PyTorch: w -= lr' / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps')

    with the same averages m, v (betas b1, b2), but Keras adds epsilon *before* the bias
    correction, and its corrections use B = b rounded to float32 (:func:`keras_cast`). Equal when
    eps' = eps / sqrt(1 - b2^t) and lr' = lr sqrt(1 - B2^t) (1 - b1^t) / ((1 - B1^t) sqrt(1 - b2^t)),
    set here before each step. Neither is noise: in float64, epsilon's place alone makes the
    twins' first update differ by about 1e-2 (root mean square, relative), the rounded betas by 6.7e-6.
    """

    def __init__(self, parameters: Iterable, lr: float, eps: float) -> None:
        super().__init__(parameters, lr=lr, eps=eps)
        self.keras_lr, self.keras_epsilon, self.steps_taken = lr, eps, 0

    def step(self, closure=None):
        self.steps_taken += 1
        t = self.steps_taken
        for group in self.param_groups:
            b1, b2 = group["betas"]
            keras_correction = math.sqrt(1 - keras_cast(b2) ** t) / (1 - keras_cast(b1) ** t)
            group["eps"] = self.keras_epsilon / math.sqrt(1 - b2**t)
            group["lr"] = self.keras_lr * keras_correction * (1 - b1**t) / math.sqrt(1 - b2**t)
        return super().step(closure)


def twin_optimisers(kind: str, torch_parameters: Iterable, *, learning_rate: float, epsilon: float | None = 1e-8,
                    momentum: float = 0.0, exact: bool = False):
    """The same optimiser in both frameworks: ``"adam"`` (``epsilon=None``: Keras' default 1e-7) or ``"sgd"``.

    ``exact=True`` (the float64 trajectories): PyTorch's optimiser computes Keras' update, rounding
    included (:class:`KerasAdam`; SGD's momentum through :func:`keras_cast`). Create them under
    :func:`keras_floatx` for float64 twins: Keras stores the learning rate in floatx.
    """
    if kind == "adam":
        keras_epsilon = {} if epsilon is None else {"epsilon": epsilon}
        torch_adam = (KerasAdam(torch_parameters, lr=learning_rate, eps=epsilon) if exact
                      else torch.optim.Adam(torch_parameters, lr=learning_rate, eps=1e-8))
        return torch_adam, keras.optimizers.Adam(learning_rate=learning_rate, **keras_epsilon)
    if kind == "sgd":
        torch_momentum = keras_cast(momentum) if exact else momentum
        return (torch.optim.SGD(torch_parameters, lr=learning_rate, momentum=torch_momentum),
                keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum))
    raise ValueError(f"unknown optimiser {kind!r}")


def torch_step(parameters: Callable[[], list], optimizer, loss: Callable[..., torch.Tensor]):
    """One PyTorch optimiser step per call on NumPy inputs; returns the loss."""
    def step(*arrays):
        value = loss(*(None if a is None else torch.as_tensor(a) for a in arrays))
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        return value.item()
    return step


def tf_step(variables: list, optimizer, loss: Callable[..., tf.Tensor]):
    """One Keras optimiser step per call on NumPy inputs (a traced ``tf.function``); returns the loss."""
    optimizer.build(variables)

    @tf.function(reduce_retracing=True)
    def traced(*tensors):
        with tf.GradientTape() as tape:
            value = loss(*tensors)
        optimizer.apply_gradients(zip(tape.gradient(value, variables), variables))
        return value

    return lambda *arrays: float(traced(*arrays))


def classifier_losses(torch_model, tf_model):
    """Training-mode cross-entropy of each twin, on (images NCHW, labels); Keras gets NHWC."""
    def torch_loss(images, labels):
        return torch.nn.functional.cross_entropy(torch_model(images), labels)

    def tf_loss(images, labels):
        logits = tf_model(tf.transpose(images, [0, 2, 3, 1]), training=True)
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))

    return torch_loss, tf_loss


def run_trajectory(torch_update, tf_update, batches: Iterable[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Feed the same batches to both twins' steps; their losses, step by step."""
    losses = [(torch_update(*batch), tf_update(*batch)) for batch in batches]
    return np.array([t for t, _ in losses]), np.array([f for _, f in losses])


def classifier_trajectory(family, torch_model, tf_model, images, labels, *, steps: int, batch_size: int,
                          kind: str, learning_rate: float, epsilon: float | None = 1e-8, momentum: float = 0.0,
                          loss_scale: float = 1.0):
    """Train both classifier twins on the same batches; (loss drift, weight drift, update drift, losses).

    Loss drift: the largest |loss_torch - loss_tf| / |loss_torch| over the steps;
    weight drift: :func:`drift` over every weight and running statistic at the end;
    update drift: the largest ||update_tf - update_torch|| / ||update_torch|| over the tensors (a
    root-mean-square measure: Adam moves every weight by about its learning rate whatever the
    size of its gradient, so the few weights with near-zero gradients dominate a maximum).
    ``loss_scale`` multiplies the loss (a small one makes near-zero gradients). Images are cast to the
    twins' dtype (see :func:`classifier_twins`), and the twins must start from the same weights, bit for bit.
    """
    start, tf_start = twin_states(torch_model, tf_model, family)
    assert drift(tf_start, start) == 0, "the twins do not start from the same weights"
    dtype = str(next(torch_model.parameters()).dtype).removeprefix("torch.")
    assert {v.dtype for v in tf_model.weights} == {dtype}, f"the Keras twin is not in {dtype}"
    images = images.astype(dtype)
    torch_model.train()
    with keras_floatx(dtype):
        torch_opt, tf_opt = twin_optimisers(kind, [p for p in torch_model.parameters() if p.requires_grad],
                                            learning_rate=learning_rate, epsilon=epsilon, momentum=momentum,
                                            exact=dtype == "float64")
    torch_loss, tf_loss = classifier_losses(torch_model, tf_model)
    rng = np.random.default_rng(0)
    batches = [(images[i], labels[i]) for i in (rng.choice(len(images), batch_size, replace=False)
                                                for _ in range(steps))]
    torch_losses, tf_losses = run_trajectory(
        torch_step(torch_model.parameters, torch_opt, lambda x, y: loss_scale * torch_loss(x, y)),
        tf_step(tf_model.trainable_variables, tf_opt, lambda x, y: loss_scale * tf_loss(x, y)),
        batches)
    return trajectory_drifts(start, *twin_states(torch_model, tf_model, family), torch_losses, tf_losses)


def assert_trajectory_within(name: str, result: tuple, *, loss: float, weights: float) -> None:
    """A trajectory (the result of :func:`classifier_trajectory`) finite, its loss drift below ``loss``
    and its weight drift below ``weights``: the bounds its test states, measured."""
    loss_drift, weight_drift, _, losses = result
    assert np.isfinite(losses).all(), f"{name}: a loss is not finite"
    assert loss_drift < loss, f"{name}: losses differ by {loss_drift:.2e} relative (bound {loss:g})"
    assert weight_drift < weights, f"{name}: weights differ by {weight_drift:.2e} of their scale (bound {weights:g})"


def trajectory_drifts(start, torch_weights, tf_weights, torch_losses, tf_losses):
    """(loss drift, weight drift, update drift, losses): see :func:`classifier_trajectory`."""
    loss_drift = float(np.max(np.abs(torch_losses - tf_losses) / np.abs(torch_losses)))
    update_drift = max(float(np.linalg.norm((tf_weights[n] - start[n]) - (torch_weights[n] - start[n]))
                             / max(np.linalg.norm(torch_weights[n] - start[n]), 1e-30)) for n in start)
    return loss_drift, drift(tf_weights, torch_weights), update_drift, torch_losses


# ----------------------------------------------------------------- layers-API models with any inputs
def keras_gradients_in_torch_layout(tf_model, gradients: list, names: Iterable[str]) -> dict[str, np.ndarray]:
    """Keras gradients (in ``trainable_variables`` order) in PyTorch layout and names, through the
    weights' own conversion: each gradient is put in its variable's place, read back with
    :func:`~torchflow.convert.keras_state` (embeddings, dense layers, recurrent gates and biases), and
    the weights restored. A single Keras LSTM bias maps to ``bias_ih`` (``bias_hh`` is frozen at zero)."""
    variables = tf_model.trainable_variables
    saved = [np.array(v.numpy()) for v in variables]
    try:
        for variable, gradient in zip(variables, gradients):
            variable.assign(tf.convert_to_tensor(gradient))
        return keras_state(tf_model, names)
    finally:
        for variable, value in zip(variables, saved):
            variable.assign(value)


def dense_gradients_step(variables: list, optimizer, loss: Callable):
    """:func:`tf_step` with every gradient made dense before Keras' optimiser sees it.

    An embedding's gradient is an ``IndexedSlices``, one slice per looked-up id, and Keras' Adam squares
    it slice by slice (``ops.square`` is sparse-aware): a word that occurs k times in a batch adds the sum
    of its k squared gradients to Adam's second moment instead of the square of their sum, which is what
    PyTorch's dense gradient gives. ``tf.convert_to_tensor`` sums the slices first, as PyTorch does.
    """
    optimizer.build(variables)

    @tf.function(reduce_retracing=True)
    def traced(*tensors):
        with tf.GradientTape() as tape:
            value = loss(*tensors)
        gradients = [tf.convert_to_tensor(g) for g in tape.gradient(value, variables)]
        optimizer.apply_gradients(zip(gradients, variables))
        return value

    return lambda *arrays: float(traced(*arrays))


def layers_trajectory(family, torch_model, tf_model, torch_loss: Callable, tf_loss: Callable, batches: list, *,
                      learning_rate: float, epsilon: float | None = 1e-8, dense: bool = True):
    """Train both twins of a layers-API family with Adam on the same ``batches`` (tuples of NumPy arrays,
    passed to ``torch_loss`` / ``tf_loss`` as tensors); the result of :func:`classifier_trajectory`.
    The twins must start from the same weights and be in one dtype (float64: exact Keras update).
    ``dense``: Keras gets dense gradients (:func:`dense_gradients_step`), as the pages give it."""
    start, tf_start = twin_states(torch_model, tf_model, family)
    assert drift(tf_start, start) == 0, "the twins do not start from the same weights"
    dtype = str(next(torch_model.parameters()).dtype).removeprefix("torch.")
    assert {v.dtype for v in tf_model.weights} == {dtype}, f"the Keras twin is not in {dtype}"
    with keras_floatx(dtype):
        torch_opt, tf_opt = twin_optimisers("adam", [p for p in torch_model.parameters() if p.requires_grad],
                                            learning_rate=learning_rate, epsilon=epsilon, exact=dtype == "float64")
    torch_losses, tf_losses = run_trajectory(torch_step(torch_model.parameters, torch_opt, torch_loss),
                                             (dense_gradients_step if dense else tf_step)(
                                                 tf_model.trainable_variables, tf_opt, tf_loss), batches)
    return trajectory_drifts(start, *twin_states(torch_model, tf_model, family), torch_losses, tf_losses)


def assert_same_signatures(torch_module, tf_module, names) -> None:
    """The twin modules' functions and classes ``names`` take the same arguments, with the same defaults.

    A diff of the twins should show only framework calls: a renamed argument or another default
    is a difference in the experiment. ``**kwargs`` (Keras layers pass theirs on) is left out.
    """
    def arguments(obj):
        return [(p.name, p.default) for p in inspect.signature(obj).parameters.values() if p.kind != p.VAR_KEYWORD]

    for name in names:
        assert arguments(getattr(torch_module, name)) == arguments(getattr(tf_module, name)), name

