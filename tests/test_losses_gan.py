"""The GAN family's losses and training steps against closed forms and NumPy, each twin on its own.

The parity tests (``test_parity_gan.py``) compare the twins with each other, so a mistake made in
both is invisible there. Here every twin is checked against something computed differently: the
value of a loss at known logits (2 log 2 at zero), a NumPy forward pass of a tiny hand-filled
weight set, and for ``train_step`` / ``infogan_train_step`` the update that plain SGD must make
(each weight list moved by its own loss's gradient, in the right order, and no other list moved;
Q's biases by the closed-form gradient of the cross-entropy and of the squared error).
"""

import numpy as np
import pytest

import torchflow  # noqa: F401  (first: the frameworks' import order)

import torch  # isort: skip
import tensorflow as tf  # isort: skip
import keras  # isort: skip

from torchflow.pt import gan as pt_gan
from torchflow.tf import gan as tf_gan

MODULES = {"torch": pt_gan, "tensorflow": tf_gan}
FRAMEWORKS = list(MODULES)
BATCH = 6
TINY = dict(noise_dim=3, hidden_dim=4, image_dim=5)
TINY_INFO = dict(noise_dim=3, num_categories=3, num_continuous=2, hidden_dim=4, generator_hidden_dim=6, image_dim=5)


# ----------------------------------------------------------------- helpers
def tensor(framework, array):
    return torch.as_tensor(array) if framework == "torch" else tf.constant(array)


def value(x) -> np.ndarray:
    return (x.detach().numpy() if isinstance(x, torch.Tensor) else x.numpy()).astype(np.float64)


def stopped(framework, x):
    return x.detach() if framework == "torch" else tf.stop_gradient(x)


def sgd(framework, weights, learning_rate):
    """Plain SGD on ``weights``: PyTorch's optimiser holds them, Keras' comes with them (the steps' convention)."""
    if framework == "torch":
        return torch.optim.SGD(weights, lr=learning_rate)
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
    optimizer.build(weights)
    return optimizer, weights


def gradients(framework, model, loss, names):
    """d loss() / d weight for each named weight (zero where the loss does not reach it)."""
    weights = [model.weights[n] for n in names]
    if framework == "torch":
        grads = torch.autograd.grad(loss(), weights, allow_unused=True)
    else:
        with tf.GradientTape() as tape:
            result = loss()
        grads = tape.gradient(result, weights)
    return {n: np.zeros(w.shape) if g is None else value(g) for n, w, g in zip(names, weights, grads)}


def filled(model, seed=0):
    """The model with random weights and nonzero biases (a hand-filled set: every unit alive somewhere)."""
    rng = np.random.default_rng(seed)
    model.set_weights({n: rng.normal(0, 0.8, w.shape).astype(np.float32) for n, w in model.get_weights().items()})
    return model


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def relu(a):
    return np.maximum(a, 0)


def one_hot(labels, n):
    return np.eye(n)[labels]


def numpy_generator(w, noise, extra=None):
    """G's images in NumPy: sigmoid(relu([z, extra] W1 + b1) W2 + b2)."""
    inputs = noise if extra is None else np.concatenate([noise, extra], 1)
    hidden = relu(inputs @ w["generator_hidden_w"] + w["generator_hidden_b"])
    return sigmoid(hidden @ w["generator_output_w"] + w["generator_output_b"])


def numpy_logit(w, images, extra=None):
    """D's logit in NumPy: relu([x, extra] W1 + b1) W2 + b2."""
    inputs = images if extra is None else np.concatenate([images, extra], 1)
    hidden = relu(inputs @ w["discriminator_hidden_w"] + w["discriminator_hidden_b"])
    return (hidden @ w["discriminator_output_w"] + w["discriminator_output_b"])[:, 0]


def numpy_q(w, images, shared):
    prefix = "discriminator_hidden" if shared else "q_hidden"
    hidden = relu(images @ w[f"{prefix}_w"] + w[f"{prefix}_b"])
    return hidden @ w["q_category_w"] + w["q_category_b"], hidden @ w["q_continuous_w"] + w["q_continuous_b"]


def softmax(logits):
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def batch(seed=1, noise_dim=3, image_dim=5):
    rng = np.random.default_rng(seed)
    return (rng.random((BATCH, image_dim)).astype(np.float32),
            rng.uniform(-1, 1, (BATCH, noise_dim)).astype(np.float32), rng.integers(0, 3, BATCH))


def weights64(model):
    return {n: w.astype(np.float64) for n, w in model.get_weights().items()}


def assert_weights(actual, expected, names, what):
    for n in names:
        np.testing.assert_allclose(actual[n], expected[n], rtol=1e-5, atol=1e-6, err_msg=f"{what}: {n}")


# ----------------------------------------------------------------- the discriminator's loss
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_discriminator_loss_is_2_log_2_at_zero_logits(framework):
    """D's output layer zeroed: D(x) = 1/2 for every image, and BCE(1/2, 1) + BCE(1/2, 0) = 2 log 2."""
    model = filled(MODULES[framework].GAN(**TINY))
    weights = model.get_weights()
    weights["discriminator_output_w"][:] = 0
    weights["discriminator_output_b"][:] = 0
    model.set_weights(weights)
    images, noise, _ = batch()
    loss = model.discriminator_loss(tensor(framework, images), tensor(framework, images[::-1].copy()))
    assert float(value(loss)) == pytest.approx(2 * np.log(2), rel=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_discriminator_loss_rises_when_fakes_are_scored_real(framework):
    """A hand-built D whose logit is s (mean pixel - 1/2): real images at 0.25 get logit -s/4, fakes at
    0.75 get +s/4. Closed form: softplus(-a_real) + softplus(a_fake) = 2 log(1 + exp(s/4)), above 2 log 2
    when the fakes are scored more real (s > 0), below when they are scored fake (s < 0)."""
    model = MODULES[framework].GAN(**TINY)
    real, fake = np.full((BATCH, 5), 0.25, np.float32), np.full((BATCH, 5), 0.75, np.float32)
    losses = {}
    for s in (-8.0, -2.0, 0.0, 2.0, 8.0):
        weights = {n: np.zeros_like(w) for n, w in model.get_weights().items()}
        weights["discriminator_hidden_w"][:, 0] = 1 / 5  # hidden unit 0: the mean pixel
        weights["discriminator_output_w"][0, 0] = s
        weights["discriminator_output_b"][0] = -s / 2
        model.set_weights(weights)
        losses[s] = float(value(model.discriminator_loss(tensor(framework, real), tensor(framework, fake))))
        assert losses[s] == pytest.approx(2 * np.log1p(np.exp(s / 4)), rel=1e-5), s
    assert losses[0.0] == pytest.approx(2 * np.log(2), rel=1e-6)
    assert losses[-8.0] < losses[-2.0] < losses[0.0] < losses[2.0] < losses[8.0]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_discriminator_loss_against_numpy(framework):
    """-mean log D(x) - mean log(1 - D(fake)) with D computed in NumPy on a filled weight set."""
    model = filled(MODULES[framework].GAN(**TINY))
    images, noise, _ = batch()
    fake = np.random.default_rng(4).random((BATCH, 5)).astype(np.float32)
    w = weights64(model)
    expected = (-np.log(sigmoid(numpy_logit(w, images))).mean() - np.log(1 - sigmoid(numpy_logit(w, fake))).mean())
    loss = model.discriminator_loss(tensor(framework, images), tensor(framework, fake))
    assert float(value(loss)) == pytest.approx(expected, rel=1e-5)


# ----------------------------------------------------------------- the generator's losses
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("saturating", [False, True])
def test_generator_loss_against_numpy(framework, saturating):
    """Non-saturating: -mean log sigmoid(D(G(z))); saturating (the minimax game): mean log(1 - sigmoid(...))."""
    model = filled(MODULES[framework].GAN(**TINY))
    _, noise, _ = batch()
    w = weights64(model)
    d = sigmoid(numpy_logit(w, numpy_generator(w, noise)))
    expected = np.log(1 - d).mean() if saturating else -np.log(d).mean()
    loss = model.generator_loss(tensor(framework, noise), saturating=saturating)
    assert float(value(loss)) == pytest.approx(expected, rel=1e-5)
    assert (float(value(loss)) < 0) == saturating  # log(1 - D) < 0 < -log D


# ----------------------------------------------------------------- the conditional GAN
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_cgan_concatenates_the_one_hot_label(framework):
    """G(z, y) and D(x, y) equal NumPy passes on [z, e_y] and [x, e_y]; so do both losses."""
    model = filled(MODULES[framework].CGAN(**TINY, num_classes=3), seed=2)
    images, noise, labels = batch()
    w, e = weights64(model), one_hot(labels, 3)
    x, z, y = (tensor(framework, a) for a in (images, noise, labels))
    generated = numpy_generator(w, noise, e)
    np.testing.assert_allclose(value(model.generate(z, y)), generated, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(value(model.discriminator_logit(x, y)), numpy_logit(w, images, e), rtol=1e-5,
                               atol=1e-6)
    fake_logit = numpy_logit(w, generated, e)
    assert float(value(model.generator_loss(z, y))) == pytest.approx(-np.log(sigmoid(fake_logit)).mean(), rel=1e-5)
    expected_d = -np.log(sigmoid(numpy_logit(w, images, e))).mean() - np.log(1 - sigmoid(fake_logit)).mean()
    loss = model.discriminator_loss(x, model.generate(z, y), y)
    assert float(value(loss)) == pytest.approx(expected_d, rel=1e-5)
    other = tensor(framework, (labels + 1) % 3)  # the label matters: another one gives other images
    assert np.abs(value(model.generate(z, other)) - generated).max() > 1e-3


# ----------------------------------------------------------------- InfoGAN's information loss
@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("shared", [False, True])
def test_information_loss_against_numpy(framework, shared):
    """Cross-entropy of the categorical code and 1/2 squared error of the continuous one (summed over the
    codes, averaged over the batch), with Q in NumPy; and G's three losses of one pass of G(z, c)."""
    model = filled(MODULES[framework].InfoGAN(**TINY_INFO, shared_body=shared), seed=3)
    images, noise, categories = batch()
    continuous = np.random.default_rng(5).uniform(-1, 1, (BATCH, 2)).astype(np.float32)
    w = weights64(model)

    def expected(x):
        logits, means = numpy_q(w, x, shared)
        log_q = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        return -log_q[np.arange(BATCH), categories].mean(), 0.5 * ((continuous - means) ** 2).sum(1).mean()

    c1, c23 = tensor(framework, categories), tensor(framework, continuous)
    categorical, cont = model.info_loss(tensor(framework, images), c1, c23)
    assert (float(value(categorical)), float(value(cont))) == pytest.approx(expected(images), rel=1e-5)
    generated = numpy_generator(w, noise, np.concatenate([one_hot(categories, 3), continuous], 1))
    adversarial, categorical, cont = model.generator_info_losses(tensor(framework, noise), c1, c23)
    assert float(value(adversarial)) == pytest.approx(-np.log(sigmoid(numpy_logit(w, generated))).mean(), rel=1e-5)
    assert (float(value(categorical)), float(value(cont))) == pytest.approx(expected(generated), rel=1e-5)


# ----------------------------------------------------------------- train_step: which weights move, and how
def _gan_step_case(framework, conditional):
    module = MODULES[framework]
    model = filled(module.CGAN(**TINY, num_classes=3) if conditional else module.GAN(**TINY), seed=6)
    images, noise, labels = batch(7)
    return module, model, images, noise, labels if conditional else None


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("conditional", [False, True], ids=["GAN", "CGAN"])
def test_train_step_is_a_d_step_then_a_g_step(framework, conditional):
    """With SGD (D at 0.5, G at 0.3): D moves by D's loss on the stopped fake of the old G, then G by G's
    loss through the *new* D, and nothing else moves. The D loss on that batch falls."""
    module, model, images, noise, labels = _gan_step_case(framework, conditional)
    x, z = tensor(framework, images), tensor(framework, noise)
    y = None if labels is None else tensor(framework, labels)
    d_names = [n for n in model.weights if n.startswith("discriminator")]
    g_names = [n for n in model.weights if n.startswith("generator")]
    start = weights64(model)

    def d_loss():
        return model.discriminator_loss(x, stopped(framework, model.generate(z, y)), y)

    before = float(value(d_loss()))
    expected = dict(start)
    for n, g in gradients(framework, model, d_loss, d_names).items():
        expected[n] = start[n] - 0.5 * g
    reference = module.CGAN(**TINY, num_classes=3) if labels is not None else module.GAN(**TINY)
    reference.set_weights({n: v.astype(np.float32) for n, v in expected.items()})  # D moved, G not yet
    g_grads = gradients(framework, reference, lambda: reference.generator_loss(z, y), g_names)
    for n, g in g_grads.items():
        expected[n] = start[n] - 0.3 * g

    losses = module.train_step(model, (sgd(framework, model.discriminator_weights, 0.5),
                                       sgd(framework, model.generator_weights, 0.3)), x, z, y)
    after = weights64(model)
    assert_weights(after, expected, d_names + g_names, "after one train_step")
    assert set(losses) == {"discriminator", "generator"}
    assert float(value(losses["discriminator"])) == pytest.approx(before, rel=1e-6)  # D's loss before its update
    assert float(value(losses["generator"])) == pytest.approx(
        float(value(reference.generator_loss(z, y))), rel=1e-5)  # G's loss through the new D
    model.set_weights({n: after[n].astype(np.float32) if n in d_names else start[n].astype(np.float32)
                       for n in after})
    assert float(value(d_loss())) < before - 1e-3, "the D step did not lower D's loss on its batch"


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("frozen", ["discriminator", "generator"])
def test_train_step_moves_only_the_optimised_list(framework, frozen):
    """Freeze one optimiser (learning rate 0): that network's weights stay bit for bit (the G step's
    gradient reaches D's weights, but only G's optimiser applies it), and the other network moves."""
    module, model, images, noise, labels = _gan_step_case(framework, conditional=True)
    start = model.get_weights()
    rates = {"discriminator": 0.0 if frozen == "discriminator" else 0.5,
             "generator": 0.0 if frozen == "generator" else 0.5}
    module.train_step(model, (sgd(framework, model.discriminator_weights, rates["discriminator"]),
                              sgd(framework, model.generator_weights, rates["generator"])),
                      tensor(framework, images), tensor(framework, noise), tensor(framework, labels))
    after = model.get_weights()
    for n in after:
        if n.startswith(frozen):
            np.testing.assert_array_equal(after[n], start[n], err_msg=n)
    moved = [n for n in after if not n.startswith(frozen)]
    assert all(np.abs(after[n] - start[n]).max() > 1e-4 for n in moved if n.endswith("_w")), moved


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_one_optimiser_moves_d_in_the_g_step_but_never_g_in_the_d_step(framework):
    """The page's demonstration: one SGD optimiser given every weight, as D's and as G's. The D step
    still moves D only (the fake is detached: no gradient of D's loss reaches G); the G step moves
    both, D by G's loss (towards calling the fakes real)."""
    module, model, images, noise, _ = _gan_step_case(framework, conditional=False)
    x, z = tensor(framework, images), tensor(framework, noise)
    names, d_names = list(model.weights), [n for n in model.weights if n.startswith("discriminator")]
    start = weights64(model)
    expected = dict(start)
    d_grads = gradients(framework, model,
                        lambda: model.discriminator_loss(x, stopped(framework, model.generate(z))), d_names)
    for n, g in d_grads.items():
        expected[n] = start[n] - 0.5 * g
    reference = module.GAN(**TINY)
    reference.set_weights({n: v.astype(np.float32) for n, v in expected.items()})
    g_grads = gradients(framework, reference, lambda: reference.generator_loss(z), names)
    assert all(np.abs(g_grads[n]).max() > 0 for n in d_names)  # G's loss does reach D's weights
    for n, g in g_grads.items():
        expected[n] = expected[n] - 0.5 * g
    both = sgd(framework, model.parameters(), 0.5)
    module.train_step(model, (both, both), x, z)
    assert_weights(weights64(model), expected, names, "one optimiser for both")


# ----------------------------------------------------------------- infogan_train_step
def _info_case(framework, shared):
    module = MODULES[framework]
    model = filled(module.InfoGAN(**TINY_INFO, shared_body=shared), seed=8)
    images, noise, categories = batch(9)
    continuous = np.random.default_rng(10).uniform(-1, 1, (BATCH, 2)).astype(np.float32)
    d_list = model.discriminator_weights + (model.q_weights if shared else [])
    g_list = model.generator_weights + ([] if shared else model.q_weights)
    return module, model, (images, noise, categories, continuous), d_list, g_list


LAMBDA_CAT, LAMBDA_CONT = 2.0, 0.5  # distinct, so that a dropped, doubled or swapped weight shows


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("shared", [False, True], ids=["own-Q", "shared-Q"])
def test_infogan_step_moves_q_by_the_weighted_information_loss(framework, shared):
    """Q's biases after one step, in closed form: d CE / d logits = softmax - one-hot and
    d (1/2 ||c - m||^2) / d m = m - c, batch-averaged, times lambda and the learning rate of the
    optimiser that holds Q (D's with a shared body, in D's step; G's otherwise, in G's step), all at
    the starting weights (G does not move in D's step; Q's own layer does not move in it)."""
    module, model, arrays, d_list, g_list = _info_case(framework, shared)
    images, noise, categories, continuous = arrays
    w = weights64(model)
    fake = numpy_generator(w, noise, np.concatenate([one_hot(categories, 3), continuous], 1))
    logits, means = numpy_q(w, fake, shared)
    rate = 0.4 if shared else 0.7
    expected_category = w["q_category_b"] - rate * LAMBDA_CAT * (softmax(logits) - one_hot(categories, 3)).mean(0)
    expected_continuous = w["q_continuous_b"] - rate * LAMBDA_CONT * (means - continuous).mean(0)
    losses = module.infogan_train_step(model, (sgd(framework, d_list, 0.4), sgd(framework, g_list, 0.7)),
                                       *(tensor(framework, a) for a in arrays), LAMBDA_CAT, LAMBDA_CONT)
    after = weights64(model)
    np.testing.assert_allclose(after["q_category_b"], expected_category, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(after["q_continuous_b"], expected_continuous, rtol=1e-5, atol=1e-6)
    assert list(losses) == ["discriminator", "generator", "categorical", "continuous"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("shared", [False, True], ids=["own-Q", "shared-Q"])
def test_infogan_g_step_descends_the_weighted_sum(framework, shared):
    """D's optimiser frozen and G's given G's weights alone: G moves by -lr (grad adversarial +
    lambda_cat grad CE + lambda_cont grad 1/2 SE), each gradient taken on its own at the start."""
    module, model, arrays, d_list, g_list = _info_case(framework, shared)
    z, c1, c23 = (tensor(framework, a) for a in arrays[1:])
    g_names = [n for n in model.weights if n.startswith("generator")]
    start = weights64(model)
    parts = [gradients(framework, model, lambda i=i: model.generator_info_losses(z, c1, c23)[i], g_names)
             for i in range(3)]
    expected = {n: start[n] - 0.3 * (parts[0][n] + LAMBDA_CAT * parts[1][n] + LAMBDA_CONT * parts[2][n])
                for n in g_names}
    g_only = [model.weights[n] for n in g_names]
    module.infogan_train_step(model, (sgd(framework, d_list, 0.0), sgd(framework, g_only, 0.3)),
                              *(tensor(framework, a) for a in arrays), LAMBDA_CAT, LAMBDA_CONT)
    assert_weights(weights64(model), expected, g_names, "G after the G step")


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("shared", [False, True], ids=["own-Q", "shared-Q"])
def test_infogan_step_moves_the_right_lists(framework, shared):
    """G's optimiser frozen: D moves, and Q with it only when it shares D's body (its heads are in D's
    list); G stays. D's frozen: G moves, Q with it only when Q is its own network; D stays."""
    for frozen in ("generator", "discriminator"):
        module, model, arrays, d_list, g_list = _info_case(framework, shared)
        start = model.get_weights()
        rates = (0.0, 0.5) if frozen == "discriminator" else (0.5, 0.0)
        module.infogan_train_step(model, (sgd(framework, d_list, rates[0]), sgd(framework, g_list, rates[1])),
                                  *(tensor(framework, a) for a in arrays), LAMBDA_CAT, LAMBDA_CONT)
        after = model.get_weights()
        q_moves_with = "discriminator" if shared else "generator"
        for n in after:
            network = "discriminator" if n.startswith("discriminator") else "generator" if n.startswith(
                "generator") else q_moves_with
            changed = not np.array_equal(after[n], start[n])
            if network == frozen:
                assert not changed, f"{n} moved with {frozen}'s optimiser frozen"
            elif n.endswith("_w"):
                assert changed, f"{n} did not move"


# ----------------------------------------------------------------- the CGAN page's averaged generator
def _variables(framework, arrays):
    if framework == "torch":
        return [torch.tensor(a, requires_grad=True) for a in arrays]
    return [tf.Variable(a) for a in arrays]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_update_average_is_an_exponential_moving_average(framework):
    """Three updates with decay 0.9 against the hand-written recursion a <- 0.9 a + 0.1 w; decay 0 copies
    the weights; the weights themselves never move, and a decay outside [0, 1) is refused."""
    module = MODULES[framework]
    rng = np.random.default_rng(11)
    start = [rng.normal(size=(3, 2)).astype(np.float32), rng.normal(size=4).astype(np.float32)]
    averaged = _variables(framework, start)
    expected = [a.astype(np.float64) for a in start]
    for _ in range(3):
        new = [rng.normal(size=a.shape).astype(np.float32) for a in start]
        weights = _variables(framework, new)
        module.update_average(averaged, weights, 0.9)
        expected = [0.9 * e + 0.1 * w for e, w in zip(expected, new)]
        for w, n in zip(weights, new):
            np.testing.assert_array_equal(value(w), n)
    for a, e in zip(averaged, expected):
        np.testing.assert_allclose(value(a), e, rtol=1e-5, atol=1e-6)
    module.update_average(averaged, weights, 0.0)
    for a, n in zip(averaged, new):
        np.testing.assert_allclose(value(a), n, rtol=1e-6)
    with pytest.raises(ValueError, match="decay"):
        module.update_average(averaged, weights, 1.0)


# ----------------------------------------------------------------- one Adam for both networks: step counts
def _one_adam(framework, model, learning_rate, beta_1):
    if framework == "torch":
        return torch.optim.Adam(model.parameters(), lr=learning_rate, betas=(beta_1, 0.999), eps=1e-8)
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, epsilon=1e-8)
    optimizer.build(model.parameters())
    return optimizer, model.parameters()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_one_adam_for_both_counts_steps_per_framework(framework):
    """The page's one-optimiser demonstration with Adam. PyTorch counts steps per weight: after 3 train_steps
    G's weights have taken 3 (the D step gives them no gradient), D's 6. Keras counts calls of
    ``apply_gradients``: 6 for every weight, so G's bias correction runs ahead. G's first update shows it:
    PyTorch moves each G weight by the learning rate (Adam's first step, t = 1); Keras, at t = 2 with
    empty moments, by lr * sqrt(1 - b2^2) / (1 - b1^2) * (1 - b1) / sqrt(1 - b2) = lr * sqrt(1 + b2) / (1 + b1)."""
    module, model, images, noise, _ = _gan_step_case(framework, conditional=False)
    learning_rate, beta_1 = 1e-3, 0.5
    both = _one_adam(framework, model, learning_rate, beta_1)
    start = weights64(model)
    x, z = tensor(framework, images), tensor(framework, noise)
    module.train_step(model, (both, both), x, z)
    g_names = [n for n in model.weights if n.startswith("generator") and n.endswith("_w")]
    moved = np.concatenate([np.abs(weights64(model)[n] - start[n]).ravel() for n in g_names])
    moved = moved[moved > 1e-7]  # weights with a zero gradient (dead units) do not move
    assert len(moved) > 10
    expected = learning_rate * (1.0 if framework == "torch" else np.sqrt(1 + 0.999) / (1 + beta_1))
    np.testing.assert_allclose(np.median(moved), expected, rtol=1e-3)
    for _ in range(2):
        module.train_step(model, (both, both), x, z)
    if framework == "torch":
        steps = {n: int(both.state[w]["step"]) for n, w in model.weights.items()}
        assert {steps[n] for n in steps if n.startswith("generator")} == {3}
        assert {steps[n] for n in steps if n.startswith("discriminator")} == {6}
    else:
        assert int(both[0].iterations.numpy()) == 6
