"""Copy weights between the PyTorch and TensorFlow twins: the one conversion path of the book.

Layouts differ between the frameworks, and these functions are the whole
difference: PyTorch stores a conv kernel as (out, in, kh, kw) and a dense
weight as (out, in), Keras as (kh, kw, in, out) and (in, out); and a flatten of
channels-first (C, H, W) feature maps orders the features differently from a
flatten of channels-last (H, W, C) maps. Weights are exchanged as NumPy arrays
in the PyTorch layout, keyed by ``state_dict`` names (``"conv1.weight"``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def conv_to_keras(weight: np.ndarray) -> np.ndarray:
    return np.transpose(weight, (2, 3, 1, 0))


def conv_to_torch(kernel: np.ndarray) -> np.ndarray:
    return np.transpose(kernel, (3, 2, 0, 1))


def dense_to_keras(weight: np.ndarray, flatten_from: tuple[int, int, int] | None = None) -> np.ndarray:
    """(out, in) -> (in, out); ``flatten_from=(C, H, W)`` reorders inputs that follow a flatten."""
    if flatten_from is not None:
        channels, height, width = flatten_from
        weight = weight.reshape(-1, channels, height, width).transpose(0, 2, 3, 1).reshape(weight.shape[0], -1)
    return weight.T.copy()


def dense_to_torch(kernel: np.ndarray, flatten_from: tuple[int, int, int] | None = None) -> np.ndarray:
    weight = kernel.T
    if flatten_from is not None:
        channels, height, width = flatten_from
        weight = weight.reshape(-1, height, width, channels).transpose(0, 3, 1, 2).reshape(weight.shape[0], -1)
    return weight.copy()


def _keras_layer(model, name: str):
    """The Keras layer that holds the weights of the PyTorch module ``name`` ("layer1.0.downsample.1")."""
    layer = model
    for part in name.split("."):
        layer = layer.layers[int(part)] if part.isdigit() else getattr(layer, part)
    while type(layer).__name__ == "Sequential":
        layer = layer.layers[-1]  # a (padding, conv) pair: the conv holds the weights
    return layer


def copy_torch_to_keras(state: Mapping[str, np.ndarray], model,
                        flatten_from: Mapping[str, tuple[int, int, int]] | None = None) -> None:
    """Load a PyTorch ``state_dict`` (as NumPy arrays) into the Keras twin with the same layer names.

    Conv kernels and dense weights change layout (the functions above); a dense
    layer that follows a flatten of (C, H, W) maps is named in ``flatten_from``;
    batch norms take (weight, bias, running mean, running variance).
    """
    flatten_from = dict(flatten_from or {})
    prefixes = dict.fromkeys(key.rsplit(".", 1)[0] for key in state)
    for prefix in prefixes:
        layer = _keras_layer(model, prefix)
        weight = state[f"{prefix}.weight"]
        if f"{prefix}.running_mean" in state:
            values = [weight, state[f"{prefix}.bias"], state[f"{prefix}.running_mean"], state[f"{prefix}.running_var"]]
        elif weight.ndim == 4:
            values = [conv_to_keras(weight)]
        else:
            values = [dense_to_keras(weight, flatten_from.get(prefix))]
        if weight.ndim > 1 and f"{prefix}.bias" in state:
            values.append(state[f"{prefix}.bias"])
        layer.set_weights([np.asarray(v, dtype=np.float32) for v in values])


def keras_state(model, names, flatten_from: Mapping[str, tuple[int, int, int]] | None = None
                ) -> dict[str, np.ndarray]:
    """The inverse of :func:`copy_torch_to_keras`: PyTorch-layout arrays of the Keras layers ``names``.

    ``names`` are PyTorch module names (``"conv1"``, ``"layer1.0.bn2"``); the result is
    keyed like a ``state_dict`` (``"conv1.weight"``), without batch norms' step counters.
    Needs no PyTorch, so a TensorFlow-only machine can produce it.
    """
    flatten_from = dict(flatten_from or {})
    state = {}
    for prefix in names:
        values = [np.asarray(v).copy() for v in _keras_layer(model, prefix).get_weights()]
        if len(values) == 4:  # batch norm: gamma, beta, moving mean, moving variance
            keys = ("weight", "bias", "running_mean", "running_var")
        else:
            kernel = values[0]
            values[0] = conv_to_torch(kernel) if kernel.ndim == 4 else dense_to_torch(kernel, flatten_from.get(prefix))
            keys = ("weight", "bias")
        state.update({f"{prefix}.{key}": value for key, value in zip(keys, values)})
    return state


def torch_state(module) -> dict[str, np.ndarray]:
    """A PyTorch module's ``state_dict`` as NumPy arrays (copies)."""
    return {name: value.detach().cpu().numpy().copy() for name, value in module.state_dict().items()}


def copy_weights(torch_model, tf_model, family) -> None:
    """Copy the PyTorch twin's weights into the TensorFlow twin of ``family`` (a :class:`~torchflow.families.Family`).

    The one path by which weights move between twins: pages, tests and the judge use it.
    """
    if family.weights == "explicit":
        tf_model.set_weights(torch_model.get_weights())
    elif family.weights == "layers":
        flatten_from = family.flatten_from(torch_model) if family.flatten_from else None
        copy_torch_to_keras(torch_state(torch_model), tf_model, flatten_from)
    else:
        raise ValueError(f"family {family.name!r}: unknown weight layout {family.weights!r}")


def copy_weights_to_torch(tf_model, torch_model, family) -> None:
    """The reverse of :func:`copy_weights`: the TensorFlow twin's weights into the PyTorch twin."""
    if family.weights == "explicit":
        torch_model.set_weights(tf_model.get_weights())
        return
    if family.weights != "layers":
        raise ValueError(f"family {family.name!r}: unknown weight layout {family.weights!r}")
    current = torch_model.state_dict()
    flatten_from = family.flatten_from(torch_model) if family.flatten_from else None
    state = keras_state(tf_model, dict.fromkeys(key.rsplit(".", 1)[0] for key in current), flatten_from)
    torch_model.load_state_dict({key: value.new_tensor(state[key]) if key in state else value
                                 for key, value in current.items()})
