"""CycleGAN twins (torchflow.pt.cyclegan / torchflow.tf.cyclegan): instance norm, parity, trajectories, data.

First the one layer the DCGAN tests do not cover: PyTorch's ``InstanceNorm2d`` (no affine, no
running statistics, epsilon 1e-5) is Keras' ``GroupNormalization(groups=-1)`` with one group per
channel, the biased variance in both. Then the twins: one set of PyTorch weights copied into the
Keras twins (:func:`torchflow.convert.copy_weights`) gives the same translations, patch scores,
losses (least squares, cycle and identity L1) and gradients of all four networks, in evaluation
and training mode, and the same training (float32 and float64 trajectories). Tolerances:
``tests/parity.py``. Last, the two domains from the data layer.
"""

import itertools

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
    keras_cast,
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
from torchflow.data import load_domains
from torchflow.families import family
from torchflow.pt import cyclegan as pt_cyclegan
from torchflow.tf import cyclegan as tf_cyclegan

CYCLEGAN = family("cyclegan")
BATCH, CHANNELS, BLOCKS = 4, 4, 1  # narrow: the layouts are what is tested, not the width
LEARNING_RATE, BETA_1, EPSILON, CYCLE, IDENTITY = 2e-4, 0.5, 1e-8, 10.0, 5.0  # the page's
NETWORKS = ("G_AB", "G_BA", "D_A", "D_B")


# ----------------------------------------------------------------- instance norm, on bare layers
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_instance_norm_is_group_norm_with_one_group_per_channel(dtype):
    """Each image's channel by its own mean and biased variance: the same in both, for any batch."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, 5, 7, 7)) * rng.uniform(0.1, 3, (1, 5, 1, 1)) + 2).astype(dtype)
    expected = as_array(pt_cyclegan.instance_norm(5)(torch.as_tensor(x)))
    with keras_floatx(dtype):
        got = as_array(tf_cyclegan.instance_norm()(nhwc(x)))
    by_hand = (x - x.mean((2, 3), keepdims=True)) / np.sqrt(x.var((2, 3), keepdims=True) + 1e-5)
    assert_close_to_scale("instance norm vs by hand", expected, by_hand)
    assert_close_to_scale("instance norm", got, nhwc(expected))
    assert_close_to_scale("one image alone", as_array(pt_cyclegan.instance_norm(5)(torch.as_tensor(x[:1]))),
                          expected[:1])


def test_instance_norm_has_no_weights_and_no_running_statistics():
    layer = tf_cyclegan.instance_norm()
    layer.build((None, 7, 7, 5))
    assert not layer.weights
    assert not list(pt_cyclegan.instance_norm(5).state_dict())


# ----------------------------------------------------------------- the twins
def _twins(dtype="float32", seed=0):
    """{name: (torch model, keras model)} for G_AB, G_BA, D_A, D_B, the Keras ones holding the PyTorch weights."""
    torch.manual_seed(seed)
    torch_models = [pt_cyclegan.Generator(CHANNELS, BLOCKS), pt_cyclegan.Generator(CHANNELS, BLOCKS),
                    pt_cyclegan.Discriminator(CHANNELS), pt_cyclegan.Discriminator(CHANNELS)]
    with keras_floatx(dtype):
        tf_models = [tf_cyclegan.Generator(CHANNELS, BLOCKS), tf_cyclegan.Generator(CHANNELS, BLOCKS),
                     tf_cyclegan.Discriminator(CHANNELS), tf_cyclegan.Discriminator(CHANNELS)]
    for torch_model, tf_model in zip(torch_models, tf_models):
        for name, parameter in torch_model.named_parameters():  # non-zero biases: their layout is tested too
            if name.endswith("bias"):
                parameter.data.normal_(0, 0.1)
        copy_weights(torch_model, tf_model, CYCLEGAN)
        if dtype == "float64":  # TensorFlow's LeakyRelu holds its slope as a float32 attribute, in float64 too
            for module in torch_model.modules():
                if isinstance(module, torch.nn.LeakyReLU):
                    module.negative_slope = keras_cast(module.negative_slope)
        torch_model.to(getattr(torch, dtype))
    return dict(zip(NETWORKS, zip(torch_models, tf_models)))


def _inputs(dtype="float32", batch=BATCH, seed=5):
    rng = np.random.default_rng(seed)
    return tuple((rng.random((batch, 1, 28, 28)) * 2 - 1).astype(dtype) for _ in "ab")


def _losses(m, real_a, real_b, losses, training, stop_gradient):
    """The page's losses, written once for both frameworks: (generators' loss, discriminators' loss, parts)."""
    G_AB, G_BA, D_A, D_B = (lambda x, net=m[n]: net(x, training=training) if training is not None else net(x)
                            for n in NETWORKS)
    fake_b, fake_a = G_AB(real_a), G_BA(real_b)
    adversarial = losses.generator_loss(D_B(fake_b)) + losses.generator_loss(D_A(fake_a))
    cycle = losses.reconstruction_loss(real_a, G_BA(fake_b)) + losses.reconstruction_loss(real_b, G_AB(fake_a))
    identity = losses.reconstruction_loss(real_b, G_AB(real_b)) + losses.reconstruction_loss(real_a, G_BA(real_a))
    g_loss = adversarial + CYCLE * cycle + IDENTITY * identity
    d_loss = (losses.discriminator_loss(D_A(real_a), D_A(stop_gradient(fake_a)))
              + losses.discriminator_loss(D_B(real_b), D_B(stop_gradient(fake_b))))
    return g_loss, d_loss, dict(fake_b=fake_b, fake_a=fake_a, adversarial=adversarial, cycle=cycle, identity=identity)


@pytest.mark.parametrize("training", [False, True])
def test_twins_agree_on_outputs_losses_and_gradients(training):
    """Translations, patch scores, every loss, and the gradient of every weight of the four networks
    (the generators' from their loss, through the discriminators; the discriminators' from theirs)."""
    twins = _twins()
    torch_models = {n: t for n, (t, _) in twins.items()}
    tf_models = {n: k for n, (_, k) in twins.items()}
    for model in torch_models.values():
        model.train(training)
    real_a, real_b = _inputs()
    torch_g, torch_d, torch_parts = _losses(torch_models, torch.as_tensor(real_a), torch.as_tensor(real_b),
                                            pt_cyclegan, None, lambda t: t.detach())
    for model in torch_models.values():
        model.zero_grad()
    torch_g.backward(retain_graph=True)
    g_grads = {n: {k: p.grad.clone() for k, p in torch_models[n].named_parameters()} for n in NETWORKS[:2]}
    for model in torch_models.values():
        model.zero_grad()
    torch_d.backward()
    for name in NETWORKS[:2]:  # the generators' gradients, from their loss
        for key, parameter in torch_models[name].named_parameters():
            parameter.grad = g_grads[name][key]
    with tf.GradientTape(persistent=True) as tape:
        tf_g, tf_d, tf_parts = _losses(tf_models, nhwc(real_a), nhwc(real_b), tf_cyclegan, training, tf.stop_gradient)
    for key in ("fake_b", "fake_a"):
        assert_close_to_scale(key, tf_parts[key], nhwc(as_array(torch_parts[key])))
    for key in ("adversarial", "cycle", "identity"):
        assert_close_to_scale(key, tf_parts[key], torch_parts[key])
    assert_close_to_scale("generators' loss", tf_g, torch_g)
    assert_close_to_scale("discriminators' loss", tf_d, torch_d)
    assert_close_to_scale("patch scores", tf_models["D_A"](nhwc(real_a)), torch_models["D_A"](torch.as_tensor(real_a)))
    for name in NETWORKS:
        loss = tf_g if name.startswith("G") else tf_d
        expected, got = gradients_in_torch_layout(torch_models[name],
                                                  tape.gradient(loss, tf_models[name].trainable_variables), CYCLEGAN)
        for key, grad in expected.items():
            assert np.abs(as_array(grad)).max() > 0, f"{name}.{key} has no gradient"
        assert_twins_agree(got, {k: as_array(g) for k, g in expected.items()}, GRADIENT)


def test_both_twins_declare_the_cyclegan_initialisation():
    """N(0, 0.02) convolution weights and zero biases in both; biases only where no instance norm follows."""
    torch.manual_seed(0)
    torch_g, tf_g = pt_cyclegan.Generator(channels=32), tf_cyclegan.Generator(channels=32)
    torch_state, tf_state = twin_states(torch_g, tf_g, CYCLEGAN)
    assert list(torch_state) == list(tf_state)
    assert [k for k in torch_state if k.endswith("bias")] == ["main.17.bias"]
    for state in (torch_state, tf_state):
        big = state["main.6.weight"]  # (128, 64, 4, 4): 131,072 weights
        assert big.mean() == pytest.approx(0.0, abs=1e-3) and big.std() == pytest.approx(0.02, rel=0.02)
        assert not state["main.17.bias"].any()
    torch_d, tf_d = pt_cyclegan.Discriminator(), tf_cyclegan.Discriminator()
    torch_state, tf_state = twin_states(torch_d, tf_d, CYCLEGAN)
    assert [k for k in torch_state if k.endswith("bias")] == ["main.0.bias", "main.8.bias"] == \
        [k for k in tf_state if k.endswith("bias")]


def test_shapes_of_translations_and_patch_scores():
    twins = _twins()
    real_a, _ = _inputs()
    torch_g, tf_g = twins["G_AB"]
    torch_d, tf_d = twins["D_A"]
    assert tuple(torch_g(torch.as_tensor(real_a)).shape) == (BATCH, 1, 28, 28)
    assert tuple(tf_g(nhwc(real_a)).shape) == (BATCH, 28, 28, 1)
    assert tuple(torch_d(torch.as_tensor(real_a)).shape) == tuple(tf_d(nhwc(real_a)).shape) == (BATCH, 49)


def test_twins_have_the_same_signatures():
    assert_same_signatures(pt_cyclegan, tf_cyclegan, ("Generator", "Discriminator", "ResidualBlock",
                                                      "discriminator_loss", "generator_loss", "reconstruction_loss",
                                                      "train_step"))


@pytest.mark.parametrize("module", [pt_cyclegan, tf_cyclegan], ids=["torch", "tensorflow"])
def test_bad_arguments_are_clear_errors(module):
    with pytest.raises(ValueError, match="multiple of 4"):
        module.Generator(image_size=30)
    with pytest.raises(ValueError, match="multiple of 4"):
        module.Discriminator(image_size=2)
    with pytest.raises(ValueError, match="positive"):
        module.Generator(channels=0)
    with pytest.raises(ValueError, match="non-negative"):
        module.Generator(blocks=-1)
    with pytest.raises(ValueError, match="positive"):
        module.ResidualBlock(0)


# ----------------------------------------------------------------- trajectories
def _trajectory(steps=50, dtype="float32", batch_size=4):
    """The page's step (each twin's ``train_step``) for ``steps`` steps on the same batches of real sneakers and
    ankle boots, from one set of weights: one Adam step on both generators (adversarial + 10 cycle + 5 identity),
    then one on both discriminators (the same translations, cut from the generators' graphs).

    Returns (loss drift, weight drift, update drift, losses) over the four networks.
    """
    twins = _twins(dtype)
    torch_models = {n: t for n, (t, _) in twins.items()}
    tf_models = {n: k for n, (_, k) in twins.items()}
    for torch_model, tf_model in twins.values():  # the initial biases: zeros, as the page's
        for key, parameter in torch_model.named_parameters():
            if key.endswith("bias"):
                parameter.data.zero_()
        copy_weights(torch_model.float(), tf_model, CYCLEGAN)
        torch_model.to(getattr(torch, dtype))
    exact = dtype == "float64"
    adam = ((lambda p: KerasAdam(p, lr=LEARNING_RATE, eps=EPSILON)) if exact
            else (lambda p: torch.optim.Adam(p, lr=LEARNING_RATE, eps=EPSILON)))
    g_opt = adam(itertools.chain(torch_models["G_AB"].parameters(), torch_models["G_BA"].parameters()))
    d_opt = adam(itertools.chain(torch_models["D_A"].parameters(), torch_models["D_B"].parameters()))
    for optimizer in (g_opt, d_opt):
        optimizer.param_groups[0]["betas"] = (BETA_1, 0.999)
    with keras_floatx(dtype):
        tf_g_opt, tf_d_opt = (keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1, epsilon=EPSILON) for _ in "gd")
    g_vars = tf_models["G_AB"].trainable_variables + tf_models["G_BA"].trainable_variables
    d_vars = tf_models["D_A"].trainable_variables + tf_models["D_B"].trainable_variables
    tf_g_opt.build(g_vars)
    tf_d_opt.build(d_vars)

    def torch_update(real_a, real_b):
        generators, discriminators = ([torch_models[n] for n in names] for names in (NETWORKS[:2], NETWORKS[2:]))
        losses = pt_cyclegan.train_step(generators, discriminators, (g_opt, d_opt), torch.as_tensor(real_a),
                                        torch.as_tensor(real_b), CYCLE, IDENTITY)
        return losses["generators"], losses["discriminators"]

    @tf.function
    def tf_update(real_a, real_b):
        losses = tf_cyclegan.train_step([tf_models[n] for n in NETWORKS[:2]], [tf_models[n] for n in NETWORKS[2:]],
                                        (tf_g_opt, tf_d_opt), real_a, real_b, CYCLE, IDENTITY)
        return losses["generators"], losses["discriminators"]

    images, labels = real_images(600)
    images = images.astype(dtype) * 2 - 1
    domain_a, domain_b = images[labels == 7], images[labels == 9]
    rng = np.random.default_rng(0)

    def states(index):
        found = {}
        for name, pair in twins.items():
            found.update({f"{name}.{k}": v for k, v in twin_states(*pair, CYCLEGAN)[index].items()})
        return found

    start = states(0)
    for model in torch_models.values():
        model.train()
    torch_losses, tf_losses = [], []
    for _ in range(steps):
        real_a = domain_a[rng.choice(len(domain_a), batch_size, replace=False)]
        real_b = domain_b[rng.choice(len(domain_b), batch_size, replace=False)]
        torch_losses.append(torch_update(real_a, real_b))
        tf_losses.append([float(v) for v in tf_update(tf.constant(nhwc(real_a)), tf.constant(nhwc(real_b)))])
    return trajectory_drifts(start, states(0), states(1), np.array(torch_losses).ravel(), np.array(tf_losses).ravel())


def test_trajectory_float64_twins_train_identically():
    """50 steps of the page's training (generators then discriminators, Adam lr 2e-4, beta_1 0.5, epsilon 1e-8,
    batches of 4 real sneakers and ankle boots), both twins in float64, PyTorch's Adam computing Keras'
    update (parity.KerasAdam), TensorFlow's float32 LeakyRelu slope in both (see the DCGAN test).
    Measured (x86-64, AVX-512): losses within 4.0e-16 relative, weights within 5.6e-15 of their scale.
    Asserted: about ten times that.
    """
    assert_trajectory_within("float64 cyclegan", _trajectory(dtype="float64"), loss=FLOAT64[0], weights=FLOAT64[1])


def test_trajectory_twins_train_alike():
    """The same 50 steps in float32. Measured (x86-64, AVX-512): losses within 5.3e-3 relative, weights within
    0.30 of their scale (more than the DCGAN's 0.045: four networks, and Adam turns small gradients into
    full-size steps); asserted about twice that.
    The float64 test shows that this drift is float32 rounding amplified by training, not a difference."""
    assert_trajectory_within("float32 cyclegan", _trajectory(), loss=FLOAT32[0], weights=FLOAT32[1])


FLOAT64 = (5e-15, 1e-13)  # (losses, weights)
FLOAT32 = (1.5e-2, 0.6)


# ----------------------------------------------------------------- the two domains
@pytest.mark.parametrize("split", ["train", "test"])
def test_load_domains_gives_two_classes_of_the_dataset_split(split):
    a, b = load_domains("fashion-mnist", split, source="embedded")
    assert len(a) > 0 and len(b) > 0
    assert set(a.labels) == {7} and set(b.labels) == {9}  # Sneaker, Ankle boot
    assert a.images.shape[1:] == b.images.shape[1:] == (28, 28) and a.images.dtype == np.uint8
    assert a.info.split == split and "Sneaker" in a.describe()
    c, d = load_domains("fashion-mnist", split, ("Trouser", "Dress"), source="embedded")
    assert set(c.labels) == {1} and set(d.labels) == {3}


def test_load_domains_rejects_bad_domains():
    with pytest.raises(ValueError, match="two different"):
        load_domains("fashion-mnist", "train", ("Sneaker", "Sneaker"), source="embedded")
    with pytest.raises(ValueError, match="not a class"):
        load_domains("fashion-mnist", "train", ("Sneaker", "Horse"), source="embedded")
