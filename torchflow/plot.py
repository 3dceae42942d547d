"""Plotting shared by every page: image grids, curves, side-by-side twins, confusion matrices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from torchflow.frameworks import LABELS as FRAMEWORK_LABELS

# The twins are told apart at a glance, with colour-blind vision and in greyscale too: two colours of the
# Okabe-Ito palette that differ in hue and lightness (vermillion for PyTorch, blue for TensorFlow), and a
# marker, a line style and a bar hatch of their own.
FRAMEWORK_COLOURS = {"torch": "#D55E00", "tensorflow": "#0072B2"}
FRAMEWORK_MARKERS = {"torch": "o", "tensorflow": "s"}
FRAMEWORK_LINESTYLES = {"torch": "-", "tensorflow": "--"}
FRAMEWORK_HATCHES = {"torch": "", "tensorflow": "//"}


def grid_image(images: np.ndarray, ncols: int | None = None, pad: int = 1) -> np.ndarray:
    """Tile ``(N, H, W)`` or ``(N, H, W, C)`` images in [0, 1] into one array."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2:
        images = images[None]
    if images.ndim == 3:
        images = images[..., None]
    count, height, width, channels = images.shape
    ncols = ncols or int(np.ceil(np.sqrt(count)))
    nrows = int(np.ceil(count / ncols))
    canvas = np.ones((nrows * (height + pad) + pad, ncols * (width + pad) + pad, channels), np.float32)
    for index, image in enumerate(images):
        row, col = divmod(index, ncols)
        top, left = pad + row * (height + pad), pad + col * (width + pad)
        canvas[top : top + height, left : left + width] = image
    return canvas[..., 0] if channels == 1 else canvas


def show_grid(images: np.ndarray, ncols: int | None = None, title: str | None = None, ax=None,
              row_labels: Sequence[str] | None = None):
    """Draw an image grid on ``ax`` (a new figure when ``None``); returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    canvas = grid_image(images, ncols)
    ax.imshow(np.clip(canvas, 0, 1), cmap="gray" if canvas.ndim == 2 else None, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    if row_labels is not None:
        height = np.asarray(images).shape[1]
        ax.set_yticks([1 + i * (height + 1) + height / 2 for i in range(len(row_labels))])
        ax.set_yticklabels(row_labels)
    if title:
        ax.set_title(title)
    return ax


def plot_curves(curves: Mapping[str, Sequence[float]], *, xlabel: str = "epoch", ylabel: str = "loss",
                title: str | None = None, ax=None, x: Mapping[str, Sequence[float]] | None = None):
    """Curves keyed by name (framework names get the framework's colour) on one axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        framework = name.split()[0]
        xs = x[name] if x is not None else np.arange(1, len(values) + 1)
        ax.plot(xs, values, label=FRAMEWORK_LABELS.get(framework, name) + name[len(framework):],
                color=FRAMEWORK_COLOURS.get(framework), marker=FRAMEWORK_MARKERS.get(framework),
                linestyle=FRAMEWORK_LINESTYLES.get(framework, "-"), markevery=max(1, len(values) // 12),
                markersize=4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def side_by_side(grids: Mapping[str, np.ndarray], ncols: int | None = None, suptitle: str | None = None,
                 row_labels: Sequence[str] | None = None):
    """One image grid per framework, side by side; returns the figure.

    Each panel is 5 inches wide and as tall as its grid's shape asks (a 3 × 10 grid gets a
    short figure, not a square one with empty bands above and below).
    """
    first = np.asarray(next(iter(grids.values()))) if grids else np.zeros((1, 1, 1))
    rows, columns = grid_image(first, ncols).shape[:2]
    height = min(max(5 * rows / columns + (0.6 if suptitle else 0.3) + 0.3, 2.0), 8.0)
    fig, axes = plt.subplots(1, max(len(grids), 1), figsize=(5 * max(len(grids), 1), height), squeeze=False)
    for ax, (name, images) in zip(axes[0], grids.items()):
        show_grid(images, ncols, title=FRAMEWORK_LABELS.get(name, name), ax=ax, row_labels=row_labels)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


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
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    width = 0.8 / max(len(accuracies), 1)
    for index, (name, values) in enumerate(accuracies.items()):
        ax.bar(np.arange(len(classes)) + index * width, values, width,
               label=FRAMEWORK_LABELS.get(name, name), color=FRAMEWORK_COLOURS.get(name),
               hatch=FRAMEWORK_HATCHES.get(name, ""), edgecolor="white")
    ax.set_xticks(np.arange(len(classes)) + width * (len(accuracies) - 1) / 2, classes, rotation=30, fontsize=8)
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return ax


def plot_attention(weights: np.ndarray, source_words: Sequence[str], target_words: Sequence[str], ax=None,
                   title: str | None = None):
    """Attention weights (target steps, source positions) as a grey map, source words along the top."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    weights = np.asarray(weights)[: len(target_words), : len(source_words)]
    ax.imshow(weights, cmap="Greys", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(source_words)), source_words, rotation=60, ha="left", fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(target_words)), target_words, fontsize=7)
    if title:
        ax.set_title(title, fontsize=8, pad=40)


def plot_styled_curves(histories: Mapping[str, Mapping[str, Sequence[float]]], keys: Sequence[str], *, ax,
                       ylabel: str, x_key: str = "steps", xlabel: str = "optimiser step",
                       styles: Sequence[str] = ("-", "--", ":", "-.")):
    """Several curves of every twin on one axis: the framework's colour and marker, one line style per key.

    ``histories`` is ``{framework: {x_key: steps, key: values, ...}}``; e.g. the D loss (solid)
    and the G loss (dashed) of both twins of a GAN.
    """
    if len(keys) > len(styles):
        raise ValueError(f"{len(keys)} keys but only {len(styles)} line styles")
    for key, style in zip(keys, styles):
        plot_curves({f"{name} {key}": h[key] for name, h in histories.items()}, ax=ax, ylabel=ylabel, xlabel=xlabel,
                    x={f"{name} {key}": h[x_key] for name, h in histories.items()})
        for line in ax.lines[-len(histories):]:
            line.set_linestyle(style)
    ax.legend(fontsize=8)
    return ax
