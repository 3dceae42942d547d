"""Copy weights between the PyTorch and TensorFlow twins of a layers-API model.

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


def keras_layer_weights(layer, torch_weights: dict[str, np.ndarray], prefix: str,
                        flatten_from: tuple[int, int, int] | None = None) -> list[np.ndarray]:
    """The Keras ``set_weights`` list for one conv or dense layer, from PyTorch-layout arrays."""
    weight, bias = torch_weights[f"{prefix}.weight"], torch_weights[f"{prefix}.bias"]
    kernel = conv_to_keras(weight) if weight.ndim == 4 else dense_to_keras(weight, flatten_from)
    return [kernel, bias]


def torch_layer_weights(layer, prefix: str, flatten_from: tuple[int, int, int] | None = None
                        ) -> dict[str, np.ndarray]:
    """PyTorch-layout arrays for one Keras conv or dense layer."""
    kernel, bias = (np.asarray(v) for v in layer.get_weights())
    weight = conv_to_torch(kernel) if kernel.ndim == 4 else dense_to_torch(kernel, flatten_from)
    return {f"{prefix}.weight": weight, f"{prefix}.bias": bias.copy()}


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
