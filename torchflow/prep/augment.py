"""Data augmentation: randomly rotated, scaled and shifted copies of images (the STN page's distorted digits).

Framework-free NumPy; the sampler is the same bilinear sampler as the spatial
transformer's (the parity tests check that they agree).
"""

from __future__ import annotations

import numpy as np


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
