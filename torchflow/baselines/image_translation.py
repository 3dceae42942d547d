"""Image-to-image "translators" that need no training: what an unpaired translation (CycleGAN) must be told
apart from. Each maps images of a source domain to images of the same shape (NumPy, any dtype):

* :func:`identity_translation` -- returns its input: perfect fidelity, no translation at all;
* :func:`random_target_images` -- a random training image of the target domain for each input: a real
  image of the target domain (perfect realism) that ignores its input;
* :func:`nearest_target_images` -- the target-domain training image nearest to each input in pixels: a
  lookup that is realistic *and* keeps what the two domains share (the first thing a specialist tries).
"""

from __future__ import annotations

import numpy as np


def identity_translation(inputs: np.ndarray) -> np.ndarray:
    """The inputs, unchanged (a copy)."""
    return np.array(inputs, copy=True)


def random_target_images(target_train: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """``count`` training images of the target domain drawn at random (without repeats where there are
    enough), whatever the inputs."""
    target_train = np.asarray(target_train)
    if count < 1 or len(target_train) < 1:
        raise ValueError(f"need count >= 1 and at least one target image, got {count}, {len(target_train)}")
    index = np.random.default_rng(seed).choice(len(target_train), count, replace=count > len(target_train))
    return target_train[index]


def nearest_target_images(inputs: np.ndarray, target_train: np.ndarray, chunk: int = 500) -> np.ndarray:
    """For each input, the training image of the target domain at the smallest Euclidean pixel distance
    (the first on ties)."""
    inputs, target_train = np.asarray(inputs), np.asarray(target_train)
    if inputs.shape[1:] != target_train.shape[1:] or len(target_train) < 1:
        raise ValueError(f"inputs {inputs.shape} and target images {target_train.shape} differ in shape")
    flat = target_train.reshape(len(target_train), -1).astype(np.float64)
    squares = (flat**2).sum(1)
    nearest = []
    for start in range(0, len(inputs), chunk):
        rows = inputs[start : start + chunk].reshape(-1, flat.shape[1]).astype(np.float64)
        nearest.append((squares[None, :] - 2 * rows @ flat.T).argmin(1))  # |x|^2 is the same for every column
    return target_train[np.concatenate(nearest)] if nearest else target_train[:0]
