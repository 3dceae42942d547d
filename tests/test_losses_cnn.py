"""The spatial transformer against closed forms, in each twin on its own: a fresh localiser gives the identity
map written out as numbers (not read from the module), and theta is read row by row, so a translation in
its third column moves the sampling grid by that much. See ``tools/mutants/cnn.toml``.
"""

import importlib

import numpy as np
import pytest
from each_twin import FRAMEWORKS
from each_twin import as_numpy as _numpy


def _stn(framework: str):
    return importlib.import_module(f"torchflow.{'pt' if framework == 'torch' else 'tf'}.stn")


def _images(framework: str) -> tuple[np.ndarray, object]:
    """(B, 28, 28) images, and the twin's own layout of them (NCHW for PyTorch, NHWC for Keras)."""
    images = np.random.default_rng(0).random((2, 28, 28)).astype(np.float32)
    if framework == "torch":
        import torch

        return images, torch.as_tensor(images[:, None])
    import tensorflow as tf

    return images, tf.constant(images[..., None])



@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_fresh_stn_is_the_identity_map(framework):
    images, batch = _images(framework)
    model = _stn(framework).STNClassifier()
    transformed, theta = model.transform(batch)
    np.testing.assert_array_equal(_numpy(theta), np.tile([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]], (2, 1, 1)))
    np.testing.assert_allclose(_numpy(transformed).reshape(2, 28, 28), images, atol=1e-5)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_theta_is_read_row_by_row(framework):
    """theta = [[a, b, tx], [c, d, ty]] from the localiser's six outputs in that order; the grid is
    theta (x, y, 1): checked against NumPy on the pixel centres."""
    stn = _stn(framework)
    model = stn.STNClassifier()
    six = np.array([0.9, 0.1, 0.25, -0.2, 1.1, -0.5], np.float32)
    if framework == "torch":
        import torch

        with torch.no_grad():
            model.loc_fc2.bias.copy_(torch.as_tensor(six))
    else:
        model.loc_fc2.bias.assign(six)
    _, batch = _images(framework)
    _, theta = model.transform(batch)
    np.testing.assert_allclose(_numpy(theta)[0], six.reshape(2, 3), rtol=1e-6)
    grid = _numpy(stn.affine_grid(theta, 4, 5))[0]  # (4, 5, 2)
    xs, ys = np.meshgrid((2 * np.arange(5) + 1) / 5 - 1, (2 * np.arange(4) + 1) / 4 - 1)
    np.testing.assert_allclose(grid[..., 0], 0.9 * xs + 0.1 * ys + 0.25, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grid[..., 1], -0.2 * xs + 1.1 * ys - 0.5, rtol=1e-5, atol=1e-6)
