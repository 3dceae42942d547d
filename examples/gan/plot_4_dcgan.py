"""
DCGAN: a convolutional GAN with the layers API
==============================================

A deep convolutional GAN (DCGAN; Radford, Metz and Chintala, 2016) is the GAN
game of the previous pages played by convolutional networks: the generator
climbs from a noise vector to an image with *transposed* convolutions, the
discriminator goes back down with *strided* convolutions, and batch
normalisation keeps both trainable. Its recipe (no pooling, batch norm, ReLU in
the generator and LeakyReLU in the discriminator, small normal initial weights,
Adam with a learning rate of 2e-4 and :math:`\\beta_1 = 0.5`) made GANs on
images much easier to train.

Unlike the first GAN pages, both twins are written with the **layers APIs**: a
``nn.Sequential`` of ``nn.ConvTranspose2d``/``nn.BatchNorm2d``/... in PyTorch,
a ``keras.Sequential`` of ``Conv2DTranspose``/``BatchNormalization``/... in
TensorFlow, with the same attribute names, so that the PyTorch ``state_dict``
names the Keras layers and one function copies weights between them. The page
trains both twins on Fashion-MNIST and scores their samples with the book's judge.
"""

# sphinx_gallery_thumbnail_number = 3

# %%
# The game, and the DCGAN recipe
# ------------------------------
# The discriminator :math:`D` outputs a logit; :math:`\sigma(D(x))` is its
# probability that :math:`x` is real. It minimises the binary cross-entropy of
# telling real images from generated ones, and the generator :math:`G` the
# *non-saturating* loss of the original GAN paper (maximise :math:`\log D(G(z))`
# rather than minimise :math:`\log(1 - D(G(z)))`, which gives no gradient when
# :math:`D` confidently rejects the samples):
#
# .. math::
#
#    \mathcal{L}_D = -\mathbb{E}_x \log \sigma(D(x)) - \mathbb{E}_z \log\big(1 - \sigma(D(G(z)))\big),
#    \qquad
#    \mathcal{L}_G = -\mathbb{E}_z \log \sigma(D(G(z))),
#    \qquad z \sim \mathcal{N}(0, I_{100}).
#
# Each training step is one step on :math:`D` (a real batch and a generated
# batch) and then one step on :math:`G` (the same generated batch, scored by the
# updated :math:`D`), with two optimisers, each given one network's weights.
#
# Where this page departs from the notes (``NOTES.md``, after the PyTorch DCGAN
# tutorial): the images are 28×28 Fashion-MNIST, which ships offline, instead of
# 64×64 CelebA faces, so the networks have two stride-2 levels instead of four
# and fewer channels, sized to train in about a minute on a CPU; the notes'
# initial weights ":math:`N(0, 0.2)`" are a slip for the DCGAN paper's
# :math:`N(0, 0.02)`, used here; and the discriminator ends on a logit, with the
# sigmoid inside the loss (``binary_cross_entropy_with_logits``), which is the
# notes' ``Sigmoid`` + ``BCELoss`` computed without overflow.
#
# Batch norm is where the frameworks' defaults differ, and the twins set them
# alike: PyTorch's ``momentum=0.1`` is Keras' ``momentum=0.9`` (one weights the
# new batch, the other the old estimate), epsilon is 1e-5 in both (Keras'
# default is 1e-3), and the running variance is updated with the unbiased batch
# variance in both (the Keras twin uses the book's ``BatchNorm`` layer, which
# does what PyTorch does). ``tests/test_parity_dcgan.py`` checks this and the
# rest: the same weights give the same images, logits, losses and gradients in
# training and in evaluation mode, and the twins' 50-step training trajectories
# agree to float64 rounding (the test's docstring gives the measured bounds).
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_images
from torchflow.judge import Judge
from torchflow.plot import plot_styled_curves, show_grid, side_by_side
from torchflow.training import StepClock, batch_indices, fixed_normal

run = torchflow.Run("dcgan")
hp = SimpleNamespace(
    latent_dim=100,
    channels=16,  # c: the generator goes 4c -> 2c -> 1 channels, the discriminator 2c -> 4c -> 1
    image_size=28,
    batch_size=32,
    learning_rate=2e-4,
    beta_1=0.5,
    adam_epsilon=1e-8,
    steps=torchflow.scaled(smoke=20, cpu=1_200, full=20_000),
    log_every=torchflow.scaled(smoke=10, cpu=50, full=200),
    snapshots=torchflow.scaled(smoke=(10, 20), cpu=(100, 300, 600, 1_200), full=(500, 2_000, 8_000, 20_000)),
    score_count=torchflow.scaled(smoke=200, cpu=2_000, full=5_000),  # images per Fréchet distance
    train_size=torchflow.scaled(smoke=2_000, cpu=None, full=None),  # None: all of it
    seed=0,
)
FRECHET, RATIO = "Fréchet distance (judge features)", "Fréchet distance / untrained generator's"
GAP = "gap between the twins' Fréchet distances (relative)"
run.expect(RATIO, at_most=torchflow.scaled(smoke=None, cpu=1 / 3, full=1 / 3))
if len(torchflow.available_frameworks()) == 2:
    run.expect(GAP, at_most=torchflow.scaled(smoke=None, cpu=0.25, full=0.25))
hp

# %%
# The dimension flow, traced from the twins
# -----------------------------------------
# Traced, not drawn by hand: each twin's generator runs on two noise vectors and
# its discriminator on two blank images, and every layer's output shape is
# recorded (channels last for both; the PyTorch twin computes channels first).
from torchflow.flow import draw_flows, trace_image_twins, trace_twins

frameworks = torchflow.available_frameworks()
kwargs = dict(channels=hp.channels, image_size=hp.image_size)
flows = trace_twins("dcgan", "Generator", np.zeros((2, hp.latent_dim), np.float32), frameworks=frameworks,
                    model_kwargs=dict(latent_dim=hp.latent_dim, **kwargs))
fig = draw_flows(flows, title="DCGAN generator: noise up to an image")
flows = trace_image_twins("dcgan", "Discriminator", (hp.image_size, hp.image_size, 1), frameworks=frameworks,
                          model_kwargs=kwargs)
fig = draw_flows(flows, title="DCGAN discriminator: an image down to a logit")

# %%
# Data and the judge
# ------------------
# Fashion-MNIST, with pixels scaled to :math:`[-1, 1]`, the range of the
# generator's tanh. A GAN has no held-out loss that says how good its images
# are; the book scores them with its *judge*, a small CNN classifier trained
# once on the Fashion-MNIST training set and cached: the Fréchet distance
# between Gaussians fitted to the judge's penultimate features of generated and
# of real test images (the recipe of the FID, with a task-specific network). Two
# numbers give its scale: another set of real test images of the same size
# (about what a perfect generator would reach) and each twin's generator before
# training. The width, batch size and number of steps were chosen on a
# validation split of the training set (``benchmarks/gan-dcgan-cpu.md``), never on the
# test images.
train = load_images("fashion-mnist", "train").take(hp.train_size)
test = load_images("fashion-mnist", "test")
run.use_data(train, test)
judge = Judge.load("fashion-mnist")
print(f"judge: test accuracy {judge.test_accuracy:.1%}; trained on {judge.trained_on}")
train_images = (train.images[:, None] / np.float32(127.5) - 1).astype(np.float32)  # (N, 1, 28, 28) in [-1, 1]
test_images = (test.images / np.float32(255)).astype(np.float32)  # the judge reads [0, 1]
score_count = min(hp.score_count, len(test_images) // 2)
reference, other_real = test_images[:score_count], test_images[score_count : 2 * score_count]
print(f"{len(train_images):,} training images; Fréchet distances over {score_count:,} images")


def to_unit(images):
    """Generated images in [-1, 1], channels first or last, as (N, 28, 28) in [0, 1]."""
    return (np.asarray(images).reshape(len(images), hp.image_size, hp.image_size) + 1) / 2


# %%
# Both twins start from the *same* weights (the PyTorch twin's initial weights,
# copied into the TensorFlow twin by :func:`torchflow.convert.copy_weights`) and
# see the *same* batches and the *same* noise: the indices come from
# :func:`~torchflow.training.batch_indices`, the noise of every step from one
# seeded generator, and ``fixed_noise`` is the DCGAN tutorial's fixed batch of
# codes, whose images we watch along training. ``train`` is the loop both twins
# share: it calls a twin's ``train_step`` (a D step, then a G step), averages
# the losses and :math:`\sigma(D(x))`, :math:`\sigma(D(G(z)))` of the training
# batches every ``log_every`` steps, and keeps the fixed-noise images at each
# snapshot. Images are generated in evaluation mode: batch norm then uses its
# running statistics, so an image does not depend on the others in its batch.
fixed_noise = fixed_normal((64, hp.latent_dim), seed=1)
score_noise = fixed_normal((score_count, hp.latent_dim), seed=2)
results = {}
initial_weights = ()  # the PyTorch twin's networks before training: the TensorFlow twin starts from them


def train(train_step, generate, clock):
    """``hp.steps`` steps of (D step, G step); returns the curves and the fixed-noise images at each snapshot."""
    noise_rng = np.random.default_rng(hp.seed + 1)
    history = dict(steps=[], d_loss=[], g_loss=[], d_real=[], d_fake=[])
    snapshots, totals = {0: generate(fixed_noise)}, np.zeros(4)
    for step, index in enumerate(batch_indices(len(train_images), hp.batch_size, hp.steps, hp.seed), 1):
        noise = noise_rng.standard_normal((hp.batch_size, hp.latent_dim)).astype(np.float32)
        with clock:
            totals += train_step(index, noise)
        if step % hp.log_every == 0:
            for key, value in zip(history, (step, *(totals / hp.log_every))):
                history[key].append(value)
            totals[:] = 0
        if step in hp.snapshots:
            snapshots[step] = generate(fixed_noise)
            print(f"step {step}: D loss {history['d_loss'][-1]:.3f}, G loss {history['g_loss'][-1]:.3f}, "
                  f"D(x) {history['d_real'][-1]:.2f}, D(G(z)) {history['d_fake'][-1]:.2f}")
    return dict(history=history, snapshots=snapshots)


# %%
# The model: twins with the layers API
# ------------------------------------
# The generator and the discriminator are each one ``Sequential`` named
# ``main``, with the same layers at the same positions in both frameworks, so
# PyTorch's ``main.3.weight`` is the kernel of Keras' ``main.layers[3]``. A
# transposed convolution's weights are ``(in, out, kh, kw)`` in PyTorch and
# ``(kh, kw, out, in)`` in Keras: the permutation of an ordinary convolution's,
# so :func:`torchflow.convert.copy_weights` moves both. A 4×4 stride-2 layer with
# ``padding=1`` in PyTorch is ``padding="same"`` in Keras on even sizes (one pixel
# on each side; on odd sizes Keras pads only after, and the shapes differ).
#
# .. tab-set::
#
#    .. tab-item:: PyTorch
#
#       .. literalinclude:: /../torchflow/pt/dcgan.py
#          :language: python
#          :pyobject: Generator
#
#       .. literalinclude:: /../torchflow/pt/dcgan.py
#          :language: python
#          :pyobject: Discriminator
#
#       .. literalinclude:: /../torchflow/pt/layers.py
#          :language: python
#          :pyobject: normal_weights
#
#    .. tab-item:: TensorFlow
#
#       .. literalinclude:: /../torchflow/tf/dcgan.py
#          :language: python
#          :pyobject: Generator
#
#       .. literalinclude:: /../torchflow/tf/dcgan.py
#          :language: python
#          :pyobject: Discriminator
#
#       .. literalinclude:: /../torchflow/tf/dcgan.py
#          :language: python
#          :pyobject: _batch_norm
#
# Training the PyTorch twin
# -------------------------
# ``netG(z)`` runs once a step. The D step scores it ``detach()``-ed, so that
# ``backward`` stops at D's input; the G step scores the *same* tensor with the
# updated D, and its gradient flows through D into G. Both networks are in
# training mode (batch statistics), and the discriminator's real and generated
# batches go through it separately, as in the DCGAN tutorial, so each is
# normalised by its own statistics.
if run.trains("torch"):
    import copy

    import torch

    from torchflow.device import torch_device
    from torchflow.pt.dcgan import Discriminator, Generator, discriminator_loss, generator_loss

    torch.manual_seed(hp.seed)
    torch_dev = torch_device()
    train_x = torch.as_tensor(train_images, device=torch_dev)
    netG = Generator(hp.latent_dim, hp.channels, image_size=hp.image_size).to(torch_dev)
    netD = Discriminator(hp.channels, image_size=hp.image_size).to(torch_dev)
    initial_weights = copy.deepcopy(netG), copy.deepcopy(netD)
    adam = dict(lr=hp.learning_rate, betas=(hp.beta_1, 0.999), eps=hp.adam_epsilon)
    optimizerD = torch.optim.Adam(netD.parameters(), **adam)
    optimizerG = torch.optim.Adam(netG.parameters(), **adam)

    def train_step(index, noise):
        real, z = train_x[index], torch.as_tensor(noise, device=torch_dev)
        fake = netG(z)
        real_logits, fake_logits = netD(real), netD(fake.detach())  # D step: no gradient into G
        d_loss = discriminator_loss(real_logits, fake_logits)
        optimizerD.zero_grad()
        d_loss.backward()
        optimizerD.step()
        g_loss = generator_loss(netD(fake))  # G step: the updated D, through D into G
        optimizerG.zero_grad()
        g_loss.backward()
        optimizerG.step()
        return (d_loss.item(), g_loss.item(), torch.sigmoid(real_logits).mean().item(),
                torch.sigmoid(fake_logits).mean().item())

    @torch.no_grad()
    def generate(noise):
        netG.eval()  # running statistics; back to training mode after
        images = torch.cat([netG(z) for z in torch.as_tensor(noise, device=torch_dev).split(500)])
        netG.train()
        return to_unit(images.cpu().numpy())

    untrained = generate(score_noise)
    clock = StepClock()
    results["torch"] = dict(train(train_step, generate, clock), clock=clock, device=str(torch_dev),
                            untrained=untrained, samples=generate(score_noise))

# %%
# Training the TensorFlow twin
# ----------------------------
# The same step. The generator runs once, under the outer tape ``g_tape``; the D
# step's inner tape sees its images through ``tf.stop_gradient`` (PyTorch's
# ``detach``), and its update is applied *inside* ``g_tape``, so that the G
# loss is computed with the updated D, as in PyTorch, without running the
# generator a second time (which would also update its batch-norm statistics
# twice). ``training=True`` selects batch statistics, PyTorch's ``train()``. The
# step is one ``tf.function`` graph; XLA (``jit_compile=True``) made this model's
# step slower on a CPU, so it is off (``benchmarks/gan-dcgan-cpu.md``).
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.convert import copy_weights
    from torchflow.device import tf_device
    from torchflow.families import family
    from torchflow.tf.dcgan import Discriminator, Generator, discriminator_loss, generator_loss

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()
    with tf.device(tf_dev):
        train_x = tf.constant(train_images.transpose(0, 2, 3, 1))  # channels last
        netG = Generator(hp.latent_dim, hp.channels, image_size=hp.image_size)
        netD = Discriminator(hp.channels, image_size=hp.image_size)
        for torch_model, model in zip(initial_weights, (netG, netD)):  # the PyTorch twin's, when it ran
            copy_weights(torch_model, model, family("dcgan"))
    optimizerD, optimizerG = (keras.optimizers.Adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1,
                                                    epsilon=hp.adam_epsilon) for _ in "DG")
    optimizerD.build(netD.trainable_variables)
    optimizerG.build(netG.trainable_variables)

    @tf.function
    def tf_train_step(index, z):
        real = tf.gather(train_x, index)
        with tf.GradientTape() as g_tape:
            fake = netG(z, training=True)
            with tf.GradientTape() as d_tape:  # D step: no gradient into G
                real_logits = netD(real, training=True)
                fake_logits = netD(tf.stop_gradient(fake), training=True)
                d_loss = discriminator_loss(real_logits, fake_logits)
            gradients = d_tape.gradient(d_loss, netD.trainable_variables)
            optimizerD.apply_gradients(zip(gradients, netD.trainable_variables))
            g_loss = generator_loss(netD(fake, training=True))  # G step: the updated D, through D into G
        gradients = g_tape.gradient(g_loss, netG.trainable_variables)
        optimizerG.apply_gradients(zip(gradients, netG.trainable_variables))
        return tf.stack([d_loss, g_loss, tf.reduce_mean(tf.sigmoid(real_logits)),
                         tf.reduce_mean(tf.sigmoid(fake_logits))])

    def generate(noise):
        return to_unit(np.concatenate([netG(noise[i : i + 500], training=False).numpy()
                                       for i in range(0, len(noise), 500)]))

    untrained = generate(score_noise)
    clock = StepClock()
    with tf.device(tf_dev):
        results["tensorflow"] = dict(train(lambda index, noise: tf_train_step(index, noise).numpy(), generate, clock),
                                     clock=clock, device=tf_dev, untrained=untrained, samples=generate(score_noise))

# %%
# Results
# -------
# The Fréchet distance of each twin's samples against real test images after
# the last step, on the scale of its untrained generator (the target: at most a
# third of it) and of real images against real images; and how far apart the
# twins' distances are (the target: within 25 % of their mean).
for name, r in results.items():
    r["scale"] = judge.frechet_scale(reference, other_real, r["untrained"])
    r["final"] = judge.frechet_distance(r["samples"], reference)
    print(f"{torchflow.frameworks.label(name)}: Fréchet distance {r['final']:.1f} after {hp.steps} steps; "
          f"untrained generator {r['scale']['untrained']:.1f}, real test images {r['scale']['real']:.2f} "
          f"(ratio to untrained {r['final'] / r['scale']['untrained']:.3f})")
finals = [r["final"] for r in results.values()]
gap = (max(finals) - min(finals)) / np.mean(finals)
if len(results) == 2:
    print(f"the twins' Fréchet distances differ by {gap:.1%} of their mean")
run.record_all(results, lambda r: {FRECHET: r["final"], RATIO: r["final"] / r["scale"]["untrained"],
                                   **({GAP: gap} if len(results) == 2 else {})})
run.verdict()

# %%
# The fixed noise along training
# ------------------------------
# The same eight codes of ``fixed_noise``, decoded by each twin's generator
# before training (top row) and at each snapshot. The twins started from the
# same weights; where the same code becomes different images, float32 rounding
# has grown through training.
rows = list(next(iter(results.values()), {}).get("snapshots", {}))
fig = side_by_side({name: np.concatenate([r["snapshots"][s][:8] for s in rows]) for name, r in results.items()},
                   ncols=8, suptitle="fixed noise, by training step", row_labels=[f"step {s}" for s in rows])

# %%
# Losses and the discriminator's outputs
# --------------------------------------
# Left: both losses of both twins, averaged over ``log_every`` steps. Right: the
# discriminator's mean probability that a training batch is real,
# :math:`\sigma(D(x))`, and that a generated batch is,
# :math:`\sigma(D(G(z)))` (``d_real``, solid, and ``d_fake``, dashed), on the
# batches of its D step. At the game's
# equilibrium both would be 1/2; the loss of the generator a GAN trains is not a
# measure of quality, the Fréchet distance above is.
fig, (ax_loss, ax_d) = plt.subplots(1, 2, figsize=(11, 4))
histories = {name: r["history"] for name, r in results.items()}
plot_styled_curves(histories, ("d_loss", "g_loss"), ax=ax_loss, ylabel="loss", xlabel="training step")
plot_styled_curves(histories, ("d_real", "d_fake"), ax=ax_d, ylabel="mean probability", xlabel="training step")
fig.tight_layout()

# %%
# Samples after training
# ----------------------
# All 64 codes of ``fixed_noise``, after the last step, and real test images
# for comparison.
fig = side_by_side({name: r["snapshots"][hp.steps] for name, r in results.items()},
                   ncols=8, suptitle=f"fixed noise after {hp.steps} steps")
fig, ax = plt.subplots(figsize=(5, 5))
_ = show_grid(reference[:64], ncols=8, ax=ax, title="real test images")

# %%
# Comparison
# ----------
# The two twins share the architecture, the initial weights, the batch-norm
# conventions, the optimiser settings, the batches and the noise. Their scores,
# and the time per training step:
for name, r in results.items():
    print(f"{torchflow.frameworks.label(name)}: Fréchet distance {r['final']:.1f} "
          f"({r['final'] / r['scale']['untrained']:.3f} of the untrained generator's), "
          f"{1000 * r['clock'].seconds_per_step:.1f} ms per step")
record = run.finish()
