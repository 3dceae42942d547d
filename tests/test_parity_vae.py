"""Parity of the VAE twins: the same weights give the same activations, loss and gradients.

Tolerance: float32 throughout; relative 1e-5 on activations and losses (the loss
sums 784 per-pixel terms); on gradients, which accumulate a batch of products in
a framework-specific order, relative 1e-4 plus an absolute 1e-5 of the largest
gradient of that weight.
"""

import numpy as np
import pytest
import tensorflow as tf
import torch

from torchflow.pt import vae as pt_vae
from torchflow.tf import vae as tf_vae

BATCH = 16


def _batch(num_classes: int):
    rng = np.random.default_rng(1)
    images = rng.random((BATCH, 784), dtype=np.float32)
    labels = rng.integers(0, 10, BATCH) if num_classes else None
    noise = rng.standard_normal((BATCH, 100)).astype(np.float32)
    return images, labels, noise


def _twins(cls_name: str):
    torch_model = getattr(pt_vae, cls_name)(seed=3)
    tf_model = getattr(tf_vae, cls_name)(seed=4)  # a different seed: the copy must do the work
    tf_model.set_weights(torch_model.get_weights())
    return torch_model, tf_model


def _as(framework, array):
    if array is None:
        return None
    return torch.as_tensor(array) if framework == "torch" else tf.convert_to_tensor(array)


@pytest.mark.parametrize("cls_name", ["VAE", "CVAE"])
def test_same_weights_same_activations_loss_and_gradients(cls_name):
    torch_model, tf_model = _twins(cls_name)
    images, labels, noise = _batch(torch_model.num_classes)

    torch_acts = torch_model.activations(_as("torch", images), _as("torch", labels), _as("torch", noise))
    tf_acts = tf_model.activations(_as("tf", images), _as("tf", labels), _as("tf", noise))
    assert list(torch_acts) == list(tf_acts)
    for name in torch_acts:
        np.testing.assert_allclose(torch_acts[name].detach().numpy(), tf_acts[name].numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=name)

    torch_loss = torch_model.loss(_as("torch", images), _as("torch", labels), _as("torch", noise))
    torch_loss[0].backward()
    with tf.GradientTape() as tape:
        tf_loss = tf_model.loss(_as("tf", images), _as("tf", labels), _as("tf", noise))
    tf_grads = tape.gradient(tf_loss[0], tf_model.parameters())

    for torch_value, tf_value in zip(torch_loss, tf_loss):
        np.testing.assert_allclose(torch_value.item(), float(tf_value), rtol=1e-5)
    for name, torch_weight, tf_grad in zip(torch_model.weights, torch_model.parameters(), tf_grads):
        scale = float(np.abs(tf_grad.numpy()).max())
        assert scale > 0, f"{name} has no gradient"
        np.testing.assert_allclose(torch_weight.grad.numpy(), tf_grad.numpy(), rtol=1e-4,
                                   atol=1e-5 * scale, err_msg=name)


def test_twins_have_the_same_interface():
    for cls_name in ("VAE", "CVAE"):
        torch_model, tf_model = _twins(cls_name)
        assert {k: v.shape for k, v in torch_model.get_weights().items()} == {
            k: v.shape for k, v in tf_model.get_weights().items()
        }
    import inspect

    for cls_name in ("VAE", "CVAE"):
        assert inspect.signature(getattr(pt_vae, cls_name)) == inspect.signature(getattr(tf_vae, cls_name))


def test_kl_matches_its_closed_form_and_is_zero_at_the_prior():
    model = pt_vae.VAE(input_dim=4, hidden_dim=3, latent_dim=2)
    for weight_name in ("encoder_mean_w", "encoder_mean_b", "encoder_logvar_w", "encoder_logvar_b"):
        with torch.no_grad():
            model.weights[weight_name].zero_()
    _, _, kl = model.loss(torch.rand(5, 4))
    assert kl.item() == pytest.approx(0.0, abs=1e-7)


def test_conditional_model_needs_labels_and_rejects_bad_weights():
    model = tf_vae.CVAE()
    with pytest.raises(ValueError, match="conditional"):
        model.loss(tf.zeros([2, 784]))
    with pytest.raises(ValueError, match="expected shape"):
        model.set_weights({**model.get_weights(), "encoder_hidden_w": np.zeros((784, 128), np.float32)})
    with pytest.raises(ValueError, match="num_classes"):
        pt_vae.CVAE(num_classes=0)
