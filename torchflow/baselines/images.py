"""Image "generators" that need no training: what a generative model's metrics must tell apart from a
real one. Each returns images in the dtype and range of the training images, and their labels or indices."""

from __future__ import annotations

import numpy as np


def _image_range(images: np.ndarray) -> tuple[float, float]:
    """The range generated images are clipped to: the dtype's for integer images, the data's for floats."""
    if np.issubdtype(images.dtype, np.integer):
        info = np.iinfo(images.dtype)
        return float(max(info.min, 0)), float(info.max)
    return float(images.min()), float(images.max())


def _as_images_of(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``values`` (float) clipped to the range of ``like`` and cast to its dtype (rounded for integer images)."""
    low, high = _image_range(like)
    values = np.clip(values, low, high)
    if np.issubdtype(like.dtype, np.integer):
        values = np.rint(values)
    return values.astype(like.dtype)


def training_copies(images: np.ndarray, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` training images drawn at random, repeats allowed: a "generator" that memorised its data.

    Returns (the copies, their indices into ``images``: ``labels[index]`` are their labels).
    """
    images = np.asarray(images)
    if count < 1 or len(images) < 1:
        raise ValueError(f"need count >= 1 and at least one image, got {count}, {len(images)}")
    index = np.random.default_rng(seed).integers(0, len(images), count)
    return images[index], index


def class_prototypes(images: np.ndarray, labels: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean image of each class, cycled through the classes to ``count`` images: (images, their labels).

    One blurred image per class, in the dtype of ``images``: what a judge's label accuracy alone
    cannot tell from a good conditional generator."""
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels) or count < 1:
        raise ValueError(f"need one label per image and count >= 1, got {len(images)}, {len(labels)}, {count}")
    classes = np.unique(labels)
    means = np.stack([images[labels == c].astype(np.float64).mean(0) for c in classes])
    order = np.arange(count) % len(classes)
    return _as_images_of(means, images)[order], classes[order]


def diagonal_gaussian(images: np.ndarray, labels: np.ndarray, count: int, seed: int = 0,
                      requested: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Samples of a class-conditional Gaussian with a diagonal covariance in pixel space: per class, each pixel
    drawn independently with that class's mean and (population) standard deviation of the pixel, then clipped to
    the image range. Labels follow the training class frequencies, or are ``requested`` (``count`` of them).

    Returns (images in the dtype of ``images``, their labels). New images that are no copies, but with no
    structure between pixels: a floor any trained generator must clear."""
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels) or count < 1:
        raise ValueError(f"need one label per image and count >= 1, got {len(images)}, {len(labels)}, {count}")
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    if requested is None:
        requested = rng.choice(labels, count)
    requested = np.asarray(requested)
    if len(requested) != count or not np.isin(requested, classes).all():
        raise ValueError(f"need {count} requested labels, each a class of the training labels")
    samples = np.empty((count, *images.shape[1:]))
    for c in classes:
        rows = requested == c
        pixels = images[labels == c].astype(np.float64)
        mean, std = pixels.mean(0), pixels.std(0)
        samples[rows] = mean + std * rng.standard_normal((int(rows.sum()), *images.shape[1:]))
    return _as_images_of(samples, images), requested
