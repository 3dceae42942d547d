"""Helpers of the CNN chapter that a reader would skip: distorted images, confusion matrices, weight copies.

Framework-free (NumPy and Matplotlib); the models live in :mod:`torchflow.pt`
and :mod:`torchflow.tf`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from torchflow.convert import conv_to_keras, dense_to_keras

# ----------------------------------------------------------------------------- distortion


def random_affine(count: int, rng: np.random.Generator, *, max_rotation: float = 45.0,
                  scale: tuple[float, float] = (0.7, 1.1), max_shift: float = 0.2) -> np.ndarray:
    """``count`` random affine maps theta (count, 2, 3) in normalised coordinates.

    Each maps an output point to the source point it reads, so the object appears
    rotated by up to ``max_rotation`` degrees, resized by a factor drawn from
    ``scale`` (theta holds the inverse factor) and shifted by up to ``max_shift``
    of the half-width.
    """
    angle = np.deg2rad(rng.uniform(-max_rotation, max_rotation, count))
    zoom = rng.uniform(*scale, count)
    shift = rng.uniform(-max_shift, max_shift, (count, 2))
    cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
    theta = np.stack([np.stack([cos, -sin, shift[:, 0]], -1), np.stack([sin, cos, shift[:, 1]], -1)], 1)
    return theta.astype(np.float32)


def affine_sample(images: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Warp (N, H, W) images with theta (N, 2, 3): the same grid and bilinear sampler as the STN's.

    Output pixel centres in [-1, 1] are mapped through theta, and each output
    reads :math:`\\sum_{n,m} U_{nm} \\max(0, 1-|x-m|) \\max(0, 1-|y-n|)`; outside the image reads zero.
    A plain NumPy version, used to make the distorted data and to check the twins' samplers.
    """
    images = np.asarray(images, dtype=np.float32)
    count, height, width = images.shape
    xs = (2 * np.arange(width) + 1) / width - 1
    ys = (2 * np.arange(height) + 1) / height - 1
    x_t, y_t = np.meshgrid(xs, ys)
    target = np.stack([x_t, y_t, np.ones_like(x_t)], -1)  # (H, W, 3)
    source = np.einsum("hwk,njk->nhwj", target, theta)  # (N, H, W, 2)
    x = ((source[..., 0] + 1) * width - 1) / 2
    y = ((source[..., 1] + 1) * height - 1) / 2
    x0, y0 = np.floor(x), np.floor(y)
    out = np.zeros_like(x, dtype=np.float32)
    index = np.arange(count)[:, None, None]
    for m, weight_x in ((x0, x0 + 1 - x), (x0 + 1, x - x0)):
        for n, weight_y in ((y0, y0 + 1 - y), (y0 + 1, y - y0)):
            inside = (m >= 0) & (m <= width - 1) & (n >= 0) & (n <= height - 1)
            column = np.clip(m, 0, width - 1).astype(np.int64)
            row = np.clip(n, 0, height - 1).astype(np.int64)
            out += images[index, row, column] * weight_x * weight_y * inside
    return out


def distort(images: np.ndarray, seed: int = 0, chunk: int = 5_000, **affine) -> np.ndarray:
    """Randomly rotated, scaled and shifted copies of (N, H, W) ``uint8`` images, as ``uint8``."""
    rng = np.random.default_rng(seed)
    out = np.empty(images.shape, dtype=np.uint8)
    for start in range(0, len(images), chunk):
        part = images[start : start + chunk]
        warped = affine_sample(part, random_affine(len(part), rng, **affine))
        out[start : start + chunk] = np.clip(np.rint(warped), 0, 255).astype(np.uint8)
    return out


# ----------------------------------------------------------------------------- scores


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts (true class, predicted class)."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Accuracy of each true class, from a confusion matrix."""
    return np.diag(matrix) / np.maximum(matrix.sum(1), 1)


def plot_confusion(matrix: np.ndarray, classes: Sequence[str], ax=None, title: str | None = None):
    """A confusion matrix as row-normalised colours with the counts written in."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    rates = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            ax.text(col, row, str(count), ha="center", va="center", fontsize=6,
                    color="white" if rates[row, col] > 0.5 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=90, fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    return ax


def plot_per_class(accuracies: Mapping[str, np.ndarray], classes: Sequence[str], ax=None):
    """Per-class accuracy of each twin as grouped bars."""
    from torchflow.plot import FRAMEWORK_COLOURS, FRAMEWORK_LABELS

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    width = 0.8 / max(len(accuracies), 1)
    for index, (name, values) in enumerate(accuracies.items()):
        ax.bar(np.arange(len(classes)) + index * width, values, width,
               label=FRAMEWORK_LABELS.get(name, name), color=FRAMEWORK_COLOURS.get(name))
    ax.set_xticks(np.arange(len(classes)) + width * (len(accuracies) - 1) / 2, classes, rotation=30, fontsize=8)
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return ax


# ----------------------------------------------------------------------------- weights


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

    Conv kernels and dense weights change layout (:mod:`torchflow.convert`); a dense
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
