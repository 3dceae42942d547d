"""What the DCGAN, BEGAN and CycleGAN twins compute, against closed forms and hand computations.

The parity tests compare the twins with each other, so a mistake made in both is invisible to them;
these tests compare each twin with an independent computation: the losses against their formulas
(NumPy, or numbers worked out by hand), BEGAN's controller and convergence measure against a hand
computation, and each family's ``train_step`` on tiny models (which weights a step changes, that the
discriminator's loss falls on a fixed batch, and what the step returns against the closed forms).
Last, the CycleGAN discriminator's receptive field, measured by the gradient of one patch score.
"""

import math

import numpy as np
import pytest

import keras  # isort: skip
import tensorflow as tf  # isort: skip
import torch  # isort: skip

from torchflow.pt import began as pt_began
from torchflow.pt import cyclegan as pt_cyclegan
from torchflow.pt import dcgan as pt_dcgan
from torchflow.tf import began as tf_began
from torchflow.tf import cyclegan as tf_cyclegan
from torchflow.tf import dcgan as tf_dcgan


class Torch:
    """The PyTorch side of a check: tensors in, numbers out, optimisers, weights."""

    name = "torch"

    @staticmethod
    def tensor(x):
        return torch.as_tensor(np.asarray(x, np.float32))

    @staticmethod
    def images(x):  # (N, C, H, W)
        return torch.as_tensor(np.asarray(x, np.float32))

    @staticmethod
    def sgd(models, lr):
        return torch.optim.SGD([p for m in models for p in m.parameters()], lr=lr)

    @staticmethod
    def adam(models, lr):
        return torch.optim.Adam([p for m in models for p in m.parameters()], lr=lr)

    @staticmethod
    def weights(model):
        return [p.detach().numpy().copy() for p in model.parameters()]

    @staticmethod
    def seed(seed):
        torch.manual_seed(seed)

    @staticmethod
    def step(function):
        return function


class TensorFlow:
    name = "tensorflow"

    @staticmethod
    def tensor(x):
        return tf.constant(np.asarray(x, np.float32))

    @staticmethod
    def images(x):  # to (N, H, W, C)
        return tf.constant(np.asarray(x, np.float32).transpose(0, 2, 3, 1))

    @staticmethod
    def _built(optimizer, models):
        optimizer.build([v for m in models for v in m.trainable_variables])
        return optimizer

    @classmethod
    def sgd(cls, models, lr):
        return cls._built(keras.optimizers.SGD(learning_rate=lr), models)

    @classmethod
    def adam(cls, models, lr):
        return cls._built(keras.optimizers.Adam(learning_rate=lr), models)

    @staticmethod
    def weights(model):
        return [v.numpy().copy() for v in model.trainable_variables]

    @staticmethod
    def seed(seed):
        keras.utils.set_random_seed(seed)

    @staticmethod
    def step(function):
        return function  # eager: the same computation as the pages' tf.function, easier to read on failure


DCGAN = [pytest.param((pt_dcgan, Torch), id="torch"), pytest.param((tf_dcgan, TensorFlow), id="tensorflow")]
BEGAN = [pytest.param((pt_began, Torch), id="torch"), pytest.param((tf_began, TensorFlow), id="tensorflow")]
CYCLEGAN = [pytest.param((pt_cyclegan, Torch), id="torch"),
            pytest.param((tf_cyclegan, TensorFlow), id="tensorflow")]


def log_sigmoid(x):
    return -np.logaddexp(0.0, -np.asarray(x, np.float64))


def changed(before, after):
    return any(not np.array_equal(b, a) for b, a in zip(before, after))


# ----------------------------------------------------------------- DCGAN: binary cross-entropy on logits
@pytest.mark.parametrize("twin", DCGAN)
def test_dcgan_discriminator_loss_is_two_log_two_at_zero_logits(twin):
    """A D that cannot tell (sigma = 1/2 everywhere) pays log 2 on each batch: 2 log 2 in all."""
    module, fw = twin
    zeros = fw.tensor(np.zeros(6))
    assert float(module.discriminator_loss(zeros, zeros)) == pytest.approx(2 * math.log(2), rel=1e-6)


@pytest.mark.parametrize("twin", DCGAN)
def test_dcgan_discriminator_loss_rises_when_fakes_are_scored_real(twin):
    module, fw = twin
    real = fw.tensor(np.zeros(4))
    losses = [float(module.discriminator_loss(real, fw.tensor(np.full(4, b)))) for b in (-3.0, 0.0, 3.0)]
    assert losses[0] < losses[1] < losses[2]
    # and falls when real images are scored real: a D that is right pays little, one that is wrong much
    right = float(module.discriminator_loss(fw.tensor(np.full(4, 4.0)), fw.tensor(np.full(4, -4.0))))
    wrong = float(module.discriminator_loss(fw.tensor(np.full(4, -4.0)), fw.tensor(np.full(4, 4.0))))
    assert right == pytest.approx(-2 * log_sigmoid(4.0), rel=1e-5) and right < 0.04
    assert wrong == pytest.approx(-2 * log_sigmoid(-4.0), rel=1e-5) and wrong > 8


@pytest.mark.parametrize("twin", DCGAN)
def test_dcgan_losses_by_hand(twin):
    """L_D = -mean log sigma(a) - mean log(1 - sigma(b)); L_G = -mean log sigma(b): the non-saturating loss."""
    module, fw = twin
    a = np.array([2.0, -0.5, 0.3, 1.7])  # real logits
    b = np.array([-1.2, 0.4, 2.5])  # fake logits: another batch size, so that a sum or a mixed mean shows
    expected_d = -log_sigmoid(a).mean() - log_sigmoid(-b).mean()  # log(1 - sigma(b)) = log sigma(-b)
    assert float(module.discriminator_loss(fw.tensor(a), fw.tensor(b))) == pytest.approx(expected_d, rel=1e-5)
    assert float(module.generator_loss(fw.tensor(b))) == pytest.approx(-log_sigmoid(b).mean(), rel=1e-5)
    # the saturating log(1 - D(G(z))) would give another number
    assert float(module.generator_loss(fw.tensor(b))) != pytest.approx(log_sigmoid(-b).mean(), rel=1e-3)


def _dcgan(module, fw, seed=0):
    fw.seed(seed)
    return module.Generator(latent_dim=8, channels=2), module.Discriminator(channels=2)


def _dcgan_batch(fw, seed=1):
    rng = np.random.default_rng(seed)
    return fw.images(rng.uniform(-1, 1, (4, 1, 28, 28))), fw.tensor(rng.standard_normal((4, 8)))


@pytest.mark.parametrize("twin", DCGAN)
@pytest.mark.parametrize("frozen", ["generator", "discriminator"])
def test_dcgan_step_changes_only_the_network_it_steps(twin, frozen):
    """With the generator's optimiser frozen (learning rate 0) a step changes D and not G, and the other way
    round: the D step updates only D, the G step only G, each through its own optimiser."""
    module, fw = twin
    generator, discriminator = _dcgan(module, fw)
    lr = {**dict(generator=0.05, discriminator=0.05), frozen: 0.0}
    optimizers = fw.sgd([generator], lr["generator"]), fw.sgd([discriminator], lr["discriminator"])
    before = fw.weights(generator), fw.weights(discriminator)
    losses = module.train_step(generator, discriminator, optimizers, *_dcgan_batch(fw))
    assert set(losses) == {"d_loss", "g_loss", "d_real", "d_fake"}
    after = fw.weights(generator), fw.weights(discriminator)
    assert changed(before[0], after[0]) == (frozen != "generator"), "the generator"
    assert changed(before[1], after[1]) == (frozen != "discriminator"), "the discriminator"


@pytest.mark.parametrize("twin", DCGAN)
def test_dcgan_discriminator_learns_to_tell_a_fixed_batch(twin):
    """G frozen, one fixed real batch and noise: over a few steps D's loss falls and it comes to score the
    real batch above the generated one; the returned loss and probabilities agree with the closed form."""
    module, fw = twin
    generator, discriminator = _dcgan(module, fw)
    optimizers = fw.sgd([generator], 0.0), fw.adam([discriminator], 2e-3)
    real, noise = _dcgan_batch(fw)
    history = [{k: float(v) for k, v in module.train_step(generator, discriminator, optimizers, real, noise).items()}
               for _ in range(8)]
    assert history[-1]["d_loss"] < 0.8 * history[0]["d_loss"], [h["d_loss"] for h in history]
    assert history[-1]["d_real"] > history[-1]["d_fake"] + 0.1
    for h in history:  # L_D >= -log mean sigma(D(x)) - log(1 - mean sigma(D(G(z)))) (Jensen), both from the step
        assert h["d_loss"] >= -math.log(h["d_real"]) - math.log(1 - h["d_fake"]) - 1e-5


# ----------------------------------------------------------------- BEGAN: L1 reconstruction, the controller
@pytest.mark.parametrize("twin", BEGAN)
def test_began_reconstruction_loss_is_the_mean_absolute_error(twin):
    module, fw = twin
    rng = np.random.default_rng(0)
    images, reconstructions = rng.uniform(-1, 1, (3, 1, 4, 4)), rng.uniform(-1, 1, (3, 1, 4, 4))
    images[0, 0, 0, 0], reconstructions[0, 0, 0, 0] = 1.0, -1.0  # one error of 2: L1 and L2 disagree
    got = float(module.reconstruction_loss(fw.images(images), fw.images(reconstructions)))
    assert got == pytest.approx(np.abs(images - reconstructions).mean(), rel=1e-5)
    assert got != pytest.approx(((images - reconstructions) ** 2).mean(), rel=1e-2)
    assert float(module.reconstruction_loss(fw.tensor([0.5, -0.5]), fw.tensor([0.0, 0.0]))) == pytest.approx(0.5)


@pytest.mark.parametrize("twin", BEGAN)
@pytest.mark.parametrize("k, loss_real, loss_fake, gamma, lambda_k, expected", [
    (0.5, 0.20, 0.05, 0.5, 0.1, 0.5 + 0.1 * (0.5 * 0.20 - 0.05)),  # fakes reconstructed too well: k grows
    (0.5, 0.20, 0.30, 0.5, 0.1, 0.5 + 0.1 * (0.5 * 0.20 - 0.30)),  # too badly: k shrinks
    (0.3, 0.40, 0.10, 0.2, 0.01, 0.3 + 0.01 * (0.08 - 0.10)),  # gamma on L(x) only: 0.2 x 0.4 = 0.08
    (0.99, 0.50, 0.00, 0.8, 0.5, 1.0),  # clipped at 1 (unclipped: 1.19)
    (0.01, 0.10, 0.90, 0.5, 0.5, 0.0),  # clipped at 0 (unclipped: -0.41)
])
def test_began_balance_update_by_hand(twin, k, loss_real, loss_fake, gamma, lambda_k, expected):
    """k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1), numbers worked out by hand."""
    module, _ = twin
    assert float(module.balance_update(k, loss_real, loss_fake, gamma, lambda_k)) == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize("twin", BEGAN)
@pytest.mark.parametrize("loss_real, loss_fake, gamma, expected", [
    (0.20, 0.05, 0.5, 0.20 + 0.05),  # |0.10 - 0.05|
    (0.20, 0.30, 0.5, 0.20 + 0.20),  # |0.10 - 0.30|: the absolute value
    (0.40, 0.10, 0.2, 0.40 + 0.02),  # |0.08 - 0.10|: gamma on L(x)
])
def test_began_convergence_measure_by_hand(twin, loss_real, loss_fake, gamma, expected):
    """M_global = L(x) + |gamma L(x) - L(G(z))|."""
    module, _ = twin
    assert float(module.convergence_measure(loss_real, loss_fake, gamma)) == pytest.approx(expected, abs=1e-7)


def _began(module, fw, seed=0):
    fw.seed(seed)
    return module.Generator(latent_dim=4, channels=2), module.Discriminator(latent_dim=4, channels=2)


def _began_batch(fw, seed=1):
    rng = np.random.default_rng(seed)
    return fw.images(rng.uniform(-1, 1, (4, 1, 28, 28))), fw.tensor(rng.uniform(-1, 1, (4, 4)))


@pytest.mark.parametrize("twin", BEGAN)
@pytest.mark.parametrize("frozen", ["generator", "discriminator"])
def test_began_step_changes_only_the_network_it_steps(twin, frozen):
    module, fw = twin
    generator, discriminator = _began(module, fw)
    lr = {**dict(generator=0.05, discriminator=0.05), frozen: 0.0}
    optimizers = fw.sgd([generator], lr["generator"]), fw.sgd([discriminator], lr["discriminator"])
    before = fw.weights(generator), fw.weights(discriminator)
    module.train_step(generator, discriminator, optimizers, *_began_batch(fw), 0.5, 0.5, 0.1)
    after = fw.weights(generator), fw.weights(discriminator)
    assert changed(before[0], after[0]) == (frozen != "generator"), "the generator"
    assert changed(before[1], after[1]) == (frozen != "discriminator"), "the discriminator"


@pytest.mark.parametrize("twin", BEGAN)
def test_began_step_returns_the_controller_and_measure_of_its_losses(twin):
    """k_{t+1} and M_global from the step's own L(x) and L(G(z)), against the closed forms (NumPy, not the
    module's functions); the D loss is L(x) - k_t L(G(z)) with L(G(z)) before D's update, so it is below L(x)."""
    module, fw = twin
    generator, discriminator = _began(module, fw)
    optimizers = fw.adam([generator], 1e-3), fw.adam([discriminator], 1e-3)
    real, noise = _began_batch(fw)
    k, gamma, lambda_k = 0.5, 0.3, 0.2
    for _ in range(3):
        losses = {name: float(v) for name, v in
                  module.train_step(generator, discriminator, optimizers, real, noise, k, gamma, lambda_k).items()}
        assert set(losses) == {"d_loss", "loss_real", "loss_fake", "m_global", "k"}
        balance = gamma * losses["loss_real"] - losses["loss_fake"]
        assert losses["k"] == pytest.approx(np.clip(k + lambda_k * balance, 0, 1), abs=1e-6)
        assert losses["m_global"] == pytest.approx(losses["loss_real"] + abs(balance), abs=1e-6)
        assert losses["d_loss"] < losses["loss_real"]
        k = losses["k"]


@pytest.mark.parametrize("twin", BEGAN)
def test_began_discriminator_loss_falls_on_a_fixed_batch(twin):
    """G frozen, k_t held at 0.5: L(x) - k L(G(z)) falls over a few D steps (D reconstructs x better)."""
    module, fw = twin
    generator, discriminator = _began(module, fw)
    optimizers = fw.sgd([generator], 0.0), fw.adam([discriminator], 1e-2)
    real, noise = _began_batch(fw)
    history = [float(module.train_step(generator, discriminator, optimizers, real, noise, 0.5, 0.5, 0.0)["d_loss"])
               for _ in range(8)]
    assert history[-1] < 0.8 * history[0], history


# ----------------------------------------------------------------- CycleGAN: least squares, cycle L1
@pytest.mark.parametrize("twin", CYCLEGAN)
def test_cyclegan_least_squares_losses_by_hand(twin):
    """D: ((D(real) - 1)^2 + D(fake)^2) / 2, each averaged (the code halves, as the paper does); G: (D(fake) - 1)^2."""
    module, fw = twin
    real = np.array([[0.9, 0.2, 1.4], [1.0, -0.3, 0.5]])
    fake = np.array([[0.1, 0.7, -0.2], [0.4, 1.1, 0.0]])
    expected_d = 0.5 * (((real - 1) ** 2).mean() + (fake ** 2).mean())
    assert float(module.discriminator_loss(fw.tensor(real), fw.tensor(fake))) == pytest.approx(expected_d, rel=1e-6)
    assert float(module.generator_loss(fw.tensor(fake))) == pytest.approx(((fake - 1) ** 2).mean(), rel=1e-6)
    # the targets: a perfect D (1 on real, 0 on fake) pays nothing, a fooled one 1; a G that fools D pays nothing
    ones, zeros = fw.tensor(np.ones((2, 3))), fw.tensor(np.zeros((2, 3)))
    assert float(module.discriminator_loss(ones, zeros)) == 0.0
    assert float(module.discriminator_loss(zeros, ones)) == pytest.approx(1.0)
    assert float(module.generator_loss(ones)) == 0.0


@pytest.mark.parametrize("twin", CYCLEGAN)
def test_cyclegan_cycle_loss_is_l1(twin):
    module, fw = twin
    images = np.array([[1.0, -1.0, 0.5, 0.0]])
    back = np.array([[-1.0, -1.0, 0.0, 0.25]])  # errors 2, 0, 0.5, 0.25: L1 0.6875, L2 1.078
    assert float(module.reconstruction_loss(fw.tensor(images), fw.tensor(back))) == pytest.approx(0.6875)


def _cyclegan(module, fw, seed=0):
    fw.seed(seed)
    return ((module.Generator(channels=2, blocks=1), module.Generator(channels=2, blocks=1)),
            (module.Discriminator(channels=2), module.Discriminator(channels=2)))


def _cyclegan_batch(fw, seed=1):
    """Two images a domain, smooth (7x7 blocks of 4x4 pixels), which tiny generators can learn to cycle."""
    rng = np.random.default_rng(seed)
    return tuple(fw.images(np.kron(rng.uniform(-1, 1, (2, 1, 7, 7)), np.ones((1, 1, 4, 4)))) for _ in "ab")


@pytest.mark.parametrize("twin", CYCLEGAN)
@pytest.mark.parametrize("frozen", ["generators", "discriminators"])
def test_cyclegan_step_changes_only_the_networks_it_steps(twin, frozen):
    module, fw = twin
    generators, discriminators = _cyclegan(module, fw)
    lr = {**dict(generators=0.05, discriminators=0.05), frozen: 0.0}
    optimizers = fw.sgd(generators, lr["generators"]), fw.sgd(discriminators, lr["discriminators"])
    nets = (*generators, *discriminators)
    before = [fw.weights(n) for n in nets]
    module.train_step(generators, discriminators, optimizers, *_cyclegan_batch(fw), 10.0, 5.0)
    after = [fw.weights(n) for n in nets]
    for index, name in enumerate(("G_AB", "G_BA", "D_A", "D_B")):
        assert changed(before[index], after[index]) == (frozen != ("generators" if index < 2 else "discriminators")), \
            name


@pytest.mark.parametrize("twin", CYCLEGAN)
@pytest.mark.parametrize("identity_weight", [0.0, 5.0])
def test_cyclegan_step_weighs_the_losses_as_stated(twin, identity_weight):
    """The generators' loss is adversarial + lambda cycle + lambda_id identity; each part against its closed
    form from the networks' outputs before the step (NumPy), the identity loss 0 when it is not weighted."""
    module, fw = twin
    generators, discriminators = _cyclegan(module, fw)
    real_a, real_b = _cyclegan_batch(fw)
    numpy = (lambda x: np.asarray(x.detach().numpy())) if fw is Torch else (lambda x: np.asarray(x))
    g_ab, g_ba = ((lambda x, g=g: numpy(g(x))) for g in generators)
    d_a, d_b = ((lambda x, d=d: numpy(d(x))) for d in discriminators)
    fake_b, fake_a = g_ab(real_a), g_ba(real_b)
    as_input = fw.tensor
    adversarial = ((d_b(as_input(fake_b)) - 1) ** 2).mean() + ((d_a(as_input(fake_a)) - 1) ** 2).mean()
    cycle = (np.abs(numpy(real_a) - g_ba(as_input(fake_b))).mean()
             + np.abs(numpy(real_b) - g_ab(as_input(fake_a))).mean())
    identity = np.abs(numpy(real_b) - g_ab(real_b)).mean() + np.abs(numpy(real_a) - g_ba(real_a)).mean()
    optimizers = fw.sgd(generators, 0.0), fw.sgd(discriminators, 0.0)
    losses = {k: float(v) for k, v in module.train_step(generators, discriminators, optimizers, real_a, real_b,
                                                         10.0, identity_weight).items()}
    assert set(losses) == {"adversarial", "cycle", "identity", "generators", "discriminators"}
    assert losses["adversarial"] == pytest.approx(adversarial, rel=1e-5)
    assert losses["cycle"] == pytest.approx(cycle, rel=1e-5)
    assert losses["identity"] == (pytest.approx(identity, rel=1e-5) if identity_weight else 0.0)
    expected = adversarial + 10.0 * cycle + identity_weight * (identity if identity_weight else 0.0)
    assert losses["generators"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("twin", CYCLEGAN)
def test_cyclegan_discriminators_loss_falls_on_a_fixed_batch(twin):
    module, fw = twin
    generators, discriminators = _cyclegan(module, fw)
    optimizers = fw.sgd(generators, 0.0), fw.adam(discriminators, 2e-3)
    real_a, real_b = _cyclegan_batch(fw)
    history = [float(module.train_step(generators, discriminators, optimizers, real_a, real_b)["discriminators"])
               for _ in range(8)]
    assert history[-1] < 0.8 * history[0], history


@pytest.mark.parametrize("twin", CYCLEGAN)
def test_cyclegan_cycle_loss_falls_when_the_generators_train(twin):
    """Discriminators frozen, a fixed batch: the generators' step lowers the (weighted) cycle loss."""
    module, fw = twin
    generators, discriminators = _cyclegan(module, fw)
    optimizers = fw.adam(generators, 3e-3), fw.sgd(discriminators, 0.0)
    real_a, real_b = _cyclegan_batch(fw)
    history = [float(module.train_step(generators, discriminators, optimizers, real_a, real_b)["cycle"])
               for _ in range(8)]
    assert history[-1] < 0.95 * history[0], history


# ----------------------------------------------------------------- the PatchGAN's receptive field
def _window(gradient):
    """The rows and columns (first, last) where a (28, 28) gradient is non-zero."""
    rows, cols = np.nonzero(np.abs(gradient) > 0)
    return (rows.min(), rows.max()), (cols.min(), cols.max())


def test_cyclegan_patch_score_sees_a_26_by_26_window():
    """The gradient of the centre patch score (3, 3) of the 7x7 map with respect to the input image is
    non-zero on a 26x26 window (rows and columns 1..26), in both twins, measured with the instance norms
    taken out: two 4x4 stride-2 convolutions and two 3x3 ones give 4 + 3 x 2 + 2 x 4 + 2 x 4 = 26. With them
    in, every score also depends on the whole image through each image's own statistics (the gradient is
    non-zero everywhere), which is not a window."""
    rng = np.random.default_rng(0)
    image = rng.uniform(-1, 1, (1, 1, 28, 28)).astype(np.float32)
    torch.manual_seed(0)
    torch_d = pt_cyclegan.Discriminator(channels=4)
    windows = {}
    for norms in (False, True):
        layers = [m if norms or not isinstance(m, torch.nn.InstanceNorm2d) else torch.nn.Identity()
                  for m in torch_d.main]
        x = torch.as_tensor(image).requires_grad_()
        torch.nn.Sequential(*layers)(x)[0, 0, 3, 3].backward()
        windows[norms] = _window(x.grad[0, 0].numpy())
    assert windows[False] == ((1, 26), (1, 26))
    assert windows[True] == ((0, 27), (0, 27))

    keras.utils.set_random_seed(0)
    tf_d = tf_cyclegan.Discriminator(channels=4)
    plain = keras.Sequential([layer for layer in tf_d.main.layers
                              if not isinstance(layer, keras.layers.GroupNormalization)])
    x = tf.constant(image.transpose(0, 2, 3, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = plain(x)[0, 3, 3, 0]
    assert tuple(plain(x).shape) == (1, 7, 7, 1)
    assert _window(tape.gradient(score, x).numpy()[0, :, :, 0]) == ((1, 26), (1, 26))
