"""Parity of the BEGAN twins (``Generator``, ``Discriminator``, ``Encoder``, ``Decoder``; family ``began``).

One set of PyTorch weights copied into the Keras twins (:func:`torchflow.convert.copy_weights`)
gives the same codes, reconstructions, generated images, L1 losses and gradients, and the same
training with the k_t balance (float32 and float64 trajectories). The twins have no batch norm
or dropout, so training and evaluation mode compute the same function (tested in both).
Tolerances: ``tests/parity.py``.
"""


import numpy as np
import pytest
from parity import (
    GRADIENT,
    KerasAdam,
    as_array,
    assert_close_to_scale,
    assert_same_signatures,
    assert_trajectory_within,
    assert_twins_agree,
    gradients_in_torch_layout,
    keras_floatx,
    nhwc,
    real_images,
    trajectory_drifts,
    twin_states,
)

import keras  # isort: skip
import tensorflow as tf  # isort: skip
import torch  # isort: skip

from torchflow.convert import copy_weights
from torchflow.families import family
from torchflow.pt import began as pt_began
from torchflow.tf import began as tf_began

BEGAN = family("began")
BATCH, LATENT, CHANNELS = 8, 16, 8
LEARNING_RATE, BETA_1, EPSILON = 1e-4, 0.5, 1e-8
GAMMA, LAMBDA_K = 0.5, 0.001


def _twins(dtype="float32", seed=0):
    torch.manual_seed(seed)
    torch_g = pt_began.Generator(LATENT, CHANNELS)
    torch_d = pt_began.Discriminator(LATENT, CHANNELS)
    with keras_floatx(dtype):
        tf_g, tf_d = tf_began.Generator(LATENT, CHANNELS), tf_began.Discriminator(LATENT, CHANNELS)
    copy_weights(torch_g, tf_g, BEGAN)
    copy_weights(torch_d, tf_d, BEGAN)
    return torch_g.to(getattr(torch, dtype)), torch_d.to(getattr(torch, dtype)), tf_g, tf_d


def _inputs():
    rng = np.random.default_rng(5)
    real = (real_images(BATCH)[0] * 2 - 1).astype(np.float32)
    return real, rng.uniform(-1, 1, (BATCH, LATENT)).astype(np.float32)


@pytest.mark.parametrize("training", [False, True])
def test_twins_agree_on_outputs_losses_and_gradients(training):
    """Codes, reconstructions, generated images, both losses and every weight's gradient
    (D's from L(x) - k L(G(z)); G's from L(G(z)), through D)."""
    torch_g, torch_d, tf_g, tf_d = _twins()
    torch_g.train(training)
    torch_d.train(training)
    real, z = _inputs()
    k = 0.3
    fake = torch_g(torch.as_tensor(z))
    x = torch.as_tensor(real)
    d_loss = (pt_began.reconstruction_loss(x, torch_d(x))
              - k * pt_began.reconstruction_loss(fake.detach(), torch_d(fake.detach())))
    torch_d.zero_grad()
    d_loss.backward()
    torch_d_grads = {n: as_array(p.grad).copy() for n, p in torch_d.named_parameters()}
    g_loss = pt_began.reconstruction_loss(fake, torch_d(fake))
    torch_g.zero_grad()
    g_loss.backward()

    with tf.GradientTape(persistent=True) as tape:
        tf_fake = tf_g(z, training=training)
        tf_x = tf.constant(nhwc(real))
        tf_d_loss = (tf_began.reconstruction_loss(tf_x, tf_d(tf_x, training=training))
                     - k * tf_began.reconstruction_loss(tf.stop_gradient(tf_fake),
                                                        tf_d(tf.stop_gradient(tf_fake), training=training)))
        tf_g_loss = tf_began.reconstruction_loss(tf_fake, tf_d(tf_fake, training=training))
    assert_close_to_scale("codes", tf_d.encoder(tf_x), torch_d.encoder(x))
    assert_close_to_scale("reconstructions", tf_d(tf_x), nhwc(as_array(torch_d(x))))
    assert_close_to_scale("generated images", tf_fake, nhwc(as_array(fake)))
    assert_close_to_scale("discriminator loss", tf_d_loss, d_loss)
    assert_close_to_scale("generator loss", tf_g_loss, g_loss)
    for torch_model, tf_model, loss, expected in ((torch_d, tf_d, tf_d_loss, torch_d_grads),
                                                  (torch_g, tf_g, tf_g_loss, None)):
        torch_grads, got = gradients_in_torch_layout(torch_model, tape.gradient(loss, tf_model.trainable_variables),
                                                     BEGAN)
        expected = expected or torch_grads
        for name, grad in expected.items():
            assert np.abs(grad).max() > 0, f"{name} has no gradient"
        assert_twins_agree(got, expected, GRADIENT)


def test_both_twins_declare_glorot_weights_and_zero_biases():
    torch.manual_seed(0)
    torch_d, tf_d = pt_began.Discriminator(), tf_began.Discriminator()
    torch_state, tf_state = twin_states(torch_d, tf_d, BEGAN)
    assert list(torch_state) == list(tf_state)
    for state in (torch_state, tf_state):
        weight = state["encoder.main.2.weight"]  # (32, 16, 4, 4)
        fan_in, fan_out = 16 * 16, 32 * 16
        assert weight.var() == pytest.approx(2 / (fan_in + fan_out), rel=0.05)
        assert not any(state[k].any() for k in state if k.endswith("bias"))


def test_twins_have_the_same_signatures():
    assert_same_signatures(pt_began, tf_began,
                           ("Generator", "Discriminator", "Encoder", "Decoder", "reconstruction_loss", "train_step",
                            "balance_update", "convergence_measure"))


@pytest.mark.parametrize("module", [pt_began, tf_began], ids=["torch", "tensorflow"])
def test_bad_arguments_are_clear_errors(module):
    with pytest.raises(ValueError, match="multiple of 4"):
        module.Discriminator(image_size=30)
    with pytest.raises(ValueError, match="positive"):
        module.Generator(latent_dim=0)
    with pytest.raises(ValueError, match="positive"):
        module.Encoder(channels=0)


def _trajectory(steps=50, dtype="float32", batch_size=16):
    """The page's step (each twin's ``train_step``: D on L(x) - k L(G(z)), then G on L(G(z)), then the k_t
    update), ``steps`` times. The PyTorch twin holds k_t as a Python number, the TensorFlow twin as a variable.

    Returns (loss drift, weight drift, update drift, losses); the k_t values are part of the losses.
    """
    torch_g, torch_d, tf_g, tf_d = _twins(dtype)
    exact = dtype == "float64"
    adam = ((lambda p: KerasAdam(p, lr=LEARNING_RATE, eps=EPSILON)) if exact
            else (lambda p: torch.optim.Adam(p, lr=LEARNING_RATE, eps=EPSILON)))
    g_opt, d_opt = adam(torch_g.parameters()), adam(torch_d.parameters())
    for optimizer in (g_opt, d_opt):
        optimizer.param_groups[0]["betas"] = (BETA_1, 0.999)
    with keras_floatx(dtype):
        tf_g_opt, tf_d_opt = (keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1, epsilon=EPSILON) for _ in "gd")
        tf_k = tf.Variable(0.0, dtype=dtype)
    tf_g_opt.build(tf_g.trainable_variables)
    tf_d_opt.build(tf_d.trainable_variables)
    torch_k = 0.0

    def torch_update(real, z):
        nonlocal torch_k
        losses = pt_began.train_step(torch_g, torch_d, (g_opt, d_opt), torch.as_tensor(real), torch.as_tensor(z),
                                     torch_k, GAMMA, LAMBDA_K)
        torch_k = losses["k"]
        return losses["d_loss"], losses["loss_fake"], torch_k

    @tf.function
    def tf_update(real, z):
        losses = tf_began.train_step(tf_g, tf_d, (tf_g_opt, tf_d_opt), real, z, tf_k, GAMMA, LAMBDA_K)
        tf_k.assign(losses["k"])
        return losses["d_loss"], losses["loss_fake"], tf_k.read_value()

    images = real_images(256)[0].astype(dtype) * 2 - 1
    rng = np.random.default_rng(0)
    start = {**{f"G.{k}": v for k, v in twin_states(torch_g, tf_g, BEGAN)[0].items()},
             **{f"D.{k}": v for k, v in twin_states(torch_d, tf_d, BEGAN)[0].items()}}
    torch_losses, tf_losses = [], []
    for _ in range(steps):
        real = images[rng.choice(len(images), batch_size, replace=False)]
        z = rng.uniform(-1, 1, (batch_size, LATENT)).astype(dtype)
        torch_losses.append(torch_update(real, z))
        tf_losses.append([float(v) for v in tf_update(tf.constant(nhwc(real)), tf.constant(z))])
    torch_states, tf_states = {}, {}
    for name, torch_model, tf_model in (("G", torch_g, tf_g), ("D", torch_d, tf_d)):
        torch_state, tf_state = twin_states(torch_model, tf_model, BEGAN)
        torch_states.update({f"{name}.{k}": v for k, v in torch_state.items()})
        tf_states.update({f"{name}.{k}": v for k, v in tf_state.items()})
    torch_losses, tf_losses = np.array(torch_losses), np.array(tf_losses)
    assert torch_losses[-1, 2] > 0, "k_t never left 0: the balance term is not exercised"
    return trajectory_drifts(start, torch_states, tf_states, torch_losses.ravel(), tf_losses.ravel())


# Measured (x86-64, AVX-512), 50 steps: float64, losses and k_t within 1.3e-15 relative, weights within
# 5.9e-14 of their scale; float32, 2.5e-4 and 8.5e-3 (k_t reaches 0.014). Asserted: about ten times
# (float64) and twice (float32) that.
FLOAT64 = (1.5e-14, 6e-13)  # (losses, weights)
FLOAT32 = (5e-4, 0.02)


def test_trajectory_float64_twins_train_identically():
    """50 steps of the page's training (Adam lr 1e-4, beta_1 0.5, epsilon 1e-8, batch 16, gamma 0.5,
    lambda_k 0.001), both twins in float64, PyTorch's Adam computing Keras' update (parity.KerasAdam):
    the twins compute the same training. Measured and asserted: FLOAT64 above."""
    assert_trajectory_within("float64 began", _trajectory(dtype="float64"), loss=FLOAT64[0], weights=FLOAT64[1])


def test_trajectory_twins_train_alike():
    """The same 50 steps in float32: rounding noise that training amplifies. Measured and asserted: FLOAT32."""
    assert_trajectory_within("float32 began", _trajectory(), loss=FLOAT32[0], weights=FLOAT32[1])


def test_mean_pairwise_distance():
    """The diversity score of the BEGAN page: the mean distance between two different rows."""
    from torchflow.metrics import mean_pairwise_distance

    points = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
    assert mean_pairwise_distance(points) == pytest.approx((5 + 4 + 3) / 3)
    assert mean_pairwise_distance(np.ones((5, 3))) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="N >= 2"):
        mean_pairwise_distance(np.zeros((1, 3)))
