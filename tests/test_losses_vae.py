"""The VAE and CVAE losses against closed forms and NumPy, in each twin on its own.

The parity tests hold the twins to each other; these hold each twin to the mathematics, so a
mistake made in both (a KL with the wrong sign or factor, a mean over pixels, a sample without
its noise) fails here. The mutation check (``tools/mutants/vae.toml``) makes sure it does.
"""

import importlib

import numpy as np
import pytest
from each_twin import FRAMEWORKS
from each_twin import as_numpy as _numpy
from each_twin import tensor as _tensor

INPUT, HIDDEN, LATENT, CLASSES = 6, 5, 3, 4


def _module(framework: str):
    return importlib.import_module({"torch": "torchflow.pt.vae", "tensorflow": "torchflow.tf.vae"}[framework])




def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_loss_is_bce_summed_over_pixels_plus_the_closed_form_kl(framework):
    """With the encoder fixed at N(mu, sigma^2) and a decoder that ignores z, both terms are closed forms."""
    model = _module(framework).VAE(INPUT, HIDDEN, LATENT)
    mu = np.array([0.5, -1.0, 2.0], np.float32)
    sigma = np.array([0.5, 1.5, 1.0], np.float32)
    pixel_logits = np.linspace(-2, 2, INPUT).astype(np.float32)
    weights = model.get_weights()
    weights.update(encoder_mean_w=np.zeros_like(weights["encoder_mean_w"]), encoder_mean_b=mu,
                   encoder_logvar_w=np.zeros_like(weights["encoder_logvar_w"]),
                   encoder_logvar_b=np.log(sigma**2).astype(np.float32),
                   decoder_output_w=np.zeros_like(weights["decoder_output_w"]), decoder_output_b=pixel_logits)
    model.set_weights(weights)
    images = np.random.default_rng(0).random((3, INPUT)).astype(np.float32)
    noise = np.random.default_rng(1).standard_normal((3, LATENT)).astype(np.float32)

    loss, reconstruction, kl = (float(_numpy(v)) for v in model.loss(_tensor(framework, images),
                                                                       noise=_tensor(framework, noise)))

    # KL(N(mu, sigma^2) || N(0, 1)) = sum_j (sigma_j^2 + mu_j^2 - 1 - log sigma_j^2) / 2
    expected_kl = 0.5 * np.sum(sigma.astype(np.float64) ** 2 + mu**2 - 1 - np.log(sigma.astype(np.float64) ** 2))
    p = _sigmoid(pixel_logits.astype(np.float64))
    expected_reconstruction = np.mean(np.sum(-(images * np.log(p) + (1 - images) * np.log(1 - p)), axis=1))
    assert kl == pytest.approx(expected_kl, rel=1e-5)
    assert kl > 0
    assert reconstruction == pytest.approx(expected_reconstruction, rel=1e-5)
    assert loss == pytest.approx(expected_kl + expected_reconstruction, rel=1e-5)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_kl_vanishes_at_the_prior(framework):
    model = _module(framework).VAE(INPUT, HIDDEN, LATENT)
    weights = model.get_weights()
    for name in ("encoder_mean", "encoder_logvar"):
        weights[f"{name}_w"] = np.zeros_like(weights[f"{name}_w"])
        weights[f"{name}_b"] = np.zeros_like(weights[f"{name}_b"])
    model.set_weights(weights)
    images = np.full((2, INPUT), 0.5, np.float32)
    _, _, kl = model.loss(_tensor(framework, images), noise=_tensor(framework, np.zeros((2, LATENT), np.float32)))
    assert abs(float(_numpy(kl))) < 1e-6


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_sample_is_mean_plus_standard_deviation_times_noise(framework):
    model = _module(framework).VAE(INPUT, HIDDEN, LATENT)
    mean = np.array([[0.0, 1.0, -2.0], [3.0, 0.5, 0.0]], np.float32)
    logvar = np.array([[0.0, 2.0, -1.0], [1.0, -3.0, 0.5]], np.float32)
    noise = np.array([[1.0, -0.5, 2.0], [0.3, 1.2, -1.0]], np.float32)
    got = _numpy(model.sample_latent(*(_tensor(framework, a) for a in (mean, logvar, noise))))
    np.testing.assert_allclose(got, mean + np.sqrt(np.exp(logvar)) * noise, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_cvae_conditions_encoder_and_decoder_on_the_one_hot_label(framework):
    """NumPy's forward pass: relu([x ; onehot(y)] W + b) at both ends."""
    model = _module(framework).CVAE(INPUT, HIDDEN, LATENT, CLASSES)
    w = {k: v.astype(np.float64) for k, v in model.get_weights().items()}
    rng = np.random.default_rng(2)
    images = rng.random((4, INPUT)).astype(np.float32)
    latent = rng.standard_normal((4, LATENT)).astype(np.float32)
    labels = np.array([0, 3, 1, 3])
    one_hot = np.eye(CLASSES)[labels]

    hidden = np.maximum(np.hstack([images, one_hot]) @ w["encoder_hidden_w"] + w["encoder_hidden_b"], 0)
    mean, _ = model.encode(_tensor(framework, images), _tensor(framework, labels))
    np.testing.assert_allclose(_numpy(mean), hidden @ w["encoder_mean_w"] + w["encoder_mean_b"], rtol=1e-5, atol=1e-5)

    hidden = np.maximum(np.hstack([latent, one_hot]) @ w["decoder_hidden_w"] + w["decoder_hidden_b"], 0)
    logits = _numpy(model.decode(_tensor(framework, latent), _tensor(framework, labels)))
    np.testing.assert_allclose(logits, hidden @ w["decoder_output_w"] + w["decoder_output_b"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_batch_loss_is_the_mean_of_the_per_image_losses(framework):
    """``loss`` averages ``loss_per_image`` (what the pages report with its standard error)."""
    model = _module(framework).CVAE(INPUT, HIDDEN, LATENT, CLASSES)
    rng = np.random.default_rng(4)
    images = _tensor(framework, rng.random((5, INPUT)).astype(np.float32))
    labels = _tensor(framework, np.array([0, 1, 2, 3, 1]))
    noise = _tensor(framework, rng.standard_normal((5, LATENT)).astype(np.float32))
    per_image = [_numpy(term) for term in model.loss_per_image(images, labels, noise)]
    batch = [float(_numpy(term)) for term in model.loss(images, labels, noise)]
    assert all(term.shape == (5,) for term in per_image)
    np.testing.assert_allclose(per_image[0], per_image[1] + per_image[2], rtol=1e-6)
    np.testing.assert_allclose(batch, [term.mean() for term in per_image], rtol=1e-6)
