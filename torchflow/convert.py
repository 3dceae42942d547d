"""Copy weights between the PyTorch and TensorFlow twins of a layers-API model.

Layouts differ between the frameworks, and these functions are the whole
difference: PyTorch stores a conv kernel as (out, in, kh, kw) and a dense
weight as (out, in), Keras as (kh, kw, in, out) and (in, out); and a flatten of
channels-first (C, H, W) feature maps orders the features differently from a
flatten of channels-last (H, W, C) maps. Weights are exchanged as NumPy arrays
in the PyTorch layout, keyed by ``state_dict`` names (``"conv1.weight"``).
"""

from __future__ import annotations

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
