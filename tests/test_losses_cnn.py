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


# ---------------------------------------------------------------- metrics of the CNN and row-LSTM pages
def test_sure_from_counts_rows_from_one():
    from torchflow.metrics import sure_from

    assert sure_from([0.2, 0.7, 0.4, 0.6, 0.8]) == 4  # rows 4 and 5 are above 0.5, row 3 is not
    assert sure_from([0.9, 0.9, 0.9]) == 1  # sure from the first row
    assert sure_from([0.1, 0.1, 0.6]) == 3  # only the last row
    assert sure_from([0.9, 0.9, 0.3]) is None  # not sure at the end
    assert sure_from([0.5, 0.6], threshold=0.5) == 2  # "above" is strict
    # brute force: the smallest t such that every row from t on is above the threshold
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = rng.random(rng.integers(1, 10))
        rows = [t for t in range(1, len(p) + 1) if (p[t - 1 :] > 0.5).all()]
        assert sure_from(p) == (rows[0] if rows else None)


def test_paired_difference_and_its_standard_error_by_hand():
    from torchflow.metrics import paired_difference

    a = np.array([1, 1, 1, 0, 1, 0, 1, 1])
    b = np.array([1, 0, 1, 0, 1, 1, 0, 1])
    difference, se = paired_difference(a, b)
    d = a - b  # 0, 1, 0, 0, 0, -1, 1, 0: mean 1/8
    assert difference == pytest.approx(1 / 8)
    assert se == pytest.approx(np.sqrt(np.sum((d - 1 / 8) ** 2) / 7 / 8))
    # identical models: no difference and no noise in it, although each accuracy alone is noisy
    assert paired_difference(a, a) == (0.0, 0.0)
