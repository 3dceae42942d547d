"""Independent-pixel Bernoulli models: the cheap likelihood baseline of a VAE's held-out bound.

A VAE with a Bernoulli decoder scores an image by the binary cross-entropy of its pixels, in nats; for
grey levels :math:`x \\in [0, 1]` that is the expected negative log-likelihood of a binary image drawn as
:math:`b_i \\sim \\mathrm{Bernoulli}(x_i)`. The models here score the same binarised images with no network:
every pixel an independent Bernoulli variable with its training frequency, one set per class.

* conditional on the label, :math:`-\\log p(b \\mid y) = \\sum_i \\mathrm{BCE}(b_i, p_{y,i})`, linear in
  :math:`b`, so grey levels give its exact expectation over the binarisation (the CVAE's comparison);
* without the label, the mixture over classes :math:`-\\log \\sum_c \\pi_c \\prod_i p_{c,i}^{b_i}
  (1 - p_{c,i})^{1 - b_i}` is not linear in :math:`b`: it is scored on binary draws (the VAE's comparison).
"""

from __future__ import annotations

import numpy as np


def bernoulli_pixels(images: np.ndarray, labels: np.ndarray | None = None,
                     smoothing: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Fit each pixel's probability of being on, per class (``labels``) or over all images.

    ``images`` are (N, ...) grey levels in [0, 1] (or binary). Returns ``(probabilities, priors)``:
    probabilities (C, D) with add-``smoothing`` counts, ``(sum x + a) / (n + 2a)`` (a pixel never on in
    training must not make a held-out image impossible), and the class frequencies (C,). Classes are
    ``np.unique(labels)``; without labels, C = 1."""
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    if flat.min() < 0 or flat.max() > 1:
        raise ValueError("pixels must lie in [0, 1]")
    if smoothing <= 0:
        raise ValueError(f"smoothing must be > 0, got {smoothing}")
    labels = np.zeros(len(flat), np.int64) if labels is None else np.asarray(labels)
    if len(labels) != len(flat):
        raise ValueError(f"{len(flat)} images for {len(labels)} labels")
    classes = np.unique(labels)
    counts = np.array([(labels == c).sum() for c in classes], np.float64)
    sums = np.stack([flat[labels == c].sum(0) for c in classes])
    return (sums + smoothing) / (counts[:, None] + 2 * smoothing), counts / counts.sum()


def _log_likelihoods(probabilities: np.ndarray, images: np.ndarray) -> np.ndarray:
    """(N, C): sum over pixels of x log p + (1 - x) log(1 - p), for every image and class."""
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    return flat @ np.log(probabilities).T + (1 - flat) @ np.log1p(-probabilities).T


def bernoulli_nll(probabilities: np.ndarray, priors: np.ndarray, images: np.ndarray,
                  labels: np.ndarray | None = None) -> np.ndarray:
    """Each image's negative log-likelihood in nats under :func:`bernoulli_pixels`' model.

    With ``labels`` (class indices into the model's classes): :math:`-\\log p(x \\mid y)`, exact in
    expectation for grey levels. Without: the mixture over the classes, weighted by ``priors``, which needs
    binary ``images`` (for grey levels the mixture's expectation over the binarisation is not this number)."""
    scores = _log_likelihoods(probabilities, images)
    if labels is not None:
        return -scores[np.arange(len(scores)), np.asarray(labels)]
    if len(priors) > 1 and not np.isin(np.asarray(images), (0, 1)).all():
        raise ValueError("a mixture over classes scores binary images: draw b ~ Bernoulli(x) first")
    joint = scores + np.log(priors)
    top = joint.max(1, keepdims=True)
    return -(top[:, 0] + np.log(np.exp(joint - top).sum(1)))
