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
# The page follows the PyTorch DCGAN tutorial (after Radford et al.). Departures
# from it:
#
# * 28×28 Fashion-MNIST, which ships offline, instead of 64×64 CelebA faces: two
#   stride-2 levels instead of four and fewer channels, sized for a CPU;
# * the discriminator ends on a logit and the sigmoid sits inside the loss
#   (``binary_cross_entropy_with_logits``): the tutorial's ``Sigmoid`` +
#   ``BCELoss`` computed without overflow;
# * samples are scored against real test images and against baselines that
#   need no training (below), where the tutorial only shows them.
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

# sphinx_gallery_thumbnail_number = 7

import textwrap

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_images
from torchflow.generative import KID, MEMORY, PRECISION, RECALL, findings, record_baselines, score
from torchflow.judge import Judge
from torchflow.plot import FRAMEWORK_COLOURS, plot_styled_curves, show_grid, side_by_side
from torchflow.training import batch_indices, fixed_normal

run = torchflow.Run()
STEPS = dict(smoke=20, cpu=1_200, full=20_000)  # training steps per budget
hp = torchflow.Settings(
    latent_dim=100,
    channels=16,  # c: the generator goes 4c -> 2c -> 1 channels, the discriminator 2c -> 4c -> 1
    image_size=28,
    batch_size=32,
    learning_rate=2e-4,
    beta_1=0.5,
    adam_epsilon=1e-8,
    steps=torchflow.scaled(**STEPS),
    log_every=torchflow.scaled(smoke=10, cpu=50, full=200),
    snapshots=torchflow.scaled(smoke=(10, 20), cpu=(100, 300, 600, 1_200), full=(500, 2_000, 8_000, 20_000)),
    score_count=torchflow.scaled(smoke=200, cpu=2_000, full=5_000),  # images in every scored set
    train_size=torchflow.scaled(smoke=2_000, cpu=None, full=None),  # None: all of it
    seed=0,
)
SEPARATION = "σ(D(x)) − σ(D(G(z))), training batches of the last log"  # each twin's result["separation"]
# Quality targets that copies of training images and class prototypes fail (the baselines below show it):
# beat a class-conditional Gaussian in pixel space on KID, cover a share of the real images (recall), put
# most samples on the real images' manifold (precision), and not sit on training images (memorisation).
run.expect(KID, below_baseline_by=torchflow.scaled(smoke=None, cpu=0.0, full=0.0))
run.expect(RECALL, at_least=torchflow.scaled(smoke=None, cpu=0.25, full=0.5))
run.expect(PRECISION, at_least=torchflow.scaled(smoke=None, cpu=0.5, full=0.6))
run.expect(MEMORY, at_least=torchflow.scaled(smoke=None, cpu=0.8, full=0.8))
# The smoke run's behaviour check: after its few steps a working D step scores real batches above generated
# ones (swapped labels or a step that never updates D would not).
run.expect(SEPARATION, at_least=torchflow.scaled(smoke=0.2, cpu=None, full=None))  # measured 0.40 (full data and embedded subset)
run.chosen_by("16 channels, batch 32, 1,200 steps", study="studies/gan/dcgan-recipe/results.md",
              evidence="Fréchet distance on a validation split of the training set")
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
# are; the book scores them in the feature space of its *judge*, a small CNN
# classifier trained once on the Fashion-MNIST training set and cached
# (:mod:`torchflow.judge`). Every scored set has the same size, because the
# scores depend on it. The width, batch size and number of steps were chosen on
# a validation split of the training set, never on the test images.
train = load_images("fashion-mnist", "train").take(hp.train_size)
test = load_images("fashion-mnist", "test")
run.use_data(train, test)
judge = Judge.load("fashion-mnist")
print(f"judge: test accuracy {judge.test_accuracy:.1%}; trained on {judge.trained_on}")
train_images = (train.images[:, None] / np.float32(127.5) - 1).astype(np.float32)  # (N, 1, 28, 28) in [-1, 1]
test_images = (test.images / np.float32(255)).astype(np.float32)  # the judge reads [0, 1]
score_count = min(hp.score_count, len(test_images) // 2)
reference, other_real = test_images[:score_count], test_images[score_count : 2 * score_count]
train_unit = (train.images / np.float32(255)).astype(np.float32)  # the training images as the judge reads them
train_labels, classes = train.labels, train.classes
print(f"{len(train_images):,} training images; every scored set has {score_count:,} images")


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
# snapshot; ``separation`` is the last average of :math:`\sigma(D(x))` minus
# that of :math:`\sigma(D(G(z)))` (the smoke run's check). Images are
# generated in evaluation mode: batch norm then uses its running statistics,
# so an image does not depend on the others in its batch.
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
            losses = train_step(index, noise)  # a dict of numbers (PyTorch) or of tensors (TensorFlow)
            totals += [float(losses[key]) for key in ("d_loss", "g_loss", "d_real", "d_fake")]
        if step % hp.log_every == 0:
            for key, value in zip(history, (step, *(totals / hp.log_every))):
                history[key].append(value)
            totals[:] = 0
        if step in hp.snapshots:
            snapshots[step] = generate(fixed_noise)
            print(f"step {step}: D loss {history['d_loss'][-1]:.3f}, G loss {history['g_loss'][-1]:.3f}, "
                  f"D(x) {history['d_real'][-1]:.2f}, D(G(z)) {history['d_fake'][-1]:.2f}")
    return dict(history=history, snapshots=snapshots, separation=history["d_real"][-1] - history["d_fake"][-1])


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
#    :sync-group: framework
#
#    .. tab-item:: PyTorch
#       :sync: torch
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
#       .. literalinclude:: /../torchflow/pt/dcgan.py
#          :language: python
#          :pyobject: train_step
#
#    .. tab-item:: TensorFlow
#       :sync: tensorflow
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
#       .. literalinclude:: /../torchflow/tf/dcgan.py
#          :language: python
#          :pyobject: train_step
#
# Training the PyTorch twin
# -------------------------
# The step is the module's ``train_step`` (in the tab above; the tests and the
# study call the same function). ``netG(z)`` runs once a step. The D step scores
# it ``detach()``-ed, so that ``backward`` stops at D's input; the G step scores
# the *same* tensor with the updated D, and its gradient flows through D into G.
# Both networks are in training mode (batch statistics), and the discriminator's
# real and generated batches go through it separately, as in the DCGAN tutorial,
# so each is normalised by its own statistics.
if run.trains("torch"):
    import copy

    import torch

    from torchflow.pt.dcgan import Discriminator, Generator, train_step

    torch_twin = run.twin("torch", mode="eager")
    torch.manual_seed(hp.seed)
    torch_dev = torch_twin.device
    train_x = torch.as_tensor(train_images, device=torch_dev)
    netG = Generator(hp.latent_dim, hp.channels, image_size=hp.image_size).to(torch_dev)
    netD = Discriminator(hp.channels, image_size=hp.image_size).to(torch_dev)
    initial_weights = copy.deepcopy(netG), copy.deepcopy(netD)
    adam = dict(lr=hp.learning_rate, betas=(hp.beta_1, 0.999), eps=hp.adam_epsilon)
    optimizerD = torch.optim.Adam(netD.parameters(), **adam)
    optimizerG = torch.optim.Adam(netG.parameters(), **adam)

    def torch_train_step(index, noise):
        return train_step(netG, netD, (optimizerG, optimizerD), train_x[index], torch.as_tensor(noise, device=torch_dev))

    @torch.no_grad()
    def generate(noise):
        netG.eval()  # running statistics; back to training mode after
        images = torch.cat([netG(z) for z in torch.as_tensor(noise, device=torch_dev).split(500)])
        netG.train()
        return to_unit(images.cpu().numpy())

    results["torch"] = dict(train(torch_train_step, generate, torch_twin.clock), samples=generate(score_noise),
                            twin=torch_twin)

# %%
# Training the TensorFlow twin
# ----------------------------
# The same step, the TensorFlow module's ``train_step``. The generator runs
# once, under the outer tape ``g_tape``; the D step's inner tape sees its images
# through ``tf.stop_gradient`` (PyTorch's ``detach``), and its update is applied
# *inside* ``g_tape``, so that the G loss is computed with the updated D, as in
# PyTorch, without running the generator a second time (which would also update
# its batch-norm statistics twice). ``training=True`` selects batch statistics,
# PyTorch's ``train()``. The page wraps the step, with the batch's gather, in
# one ``tf.function`` graph; XLA (``jit_compile=True``) made this model's
# step slower on a CPU, so it is off (``studies/gan/dcgan-recipe/results.md``).
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.convert import copy_weights
    from torchflow.families import family
    from torchflow.tf.dcgan import Discriminator, Generator, train_step

    tf_twin = run.twin("tensorflow", mode="tf.function")
    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_twin.device
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
        return train_step(netG, netD, (optimizerG, optimizerD), tf.gather(train_x, index), z)

    def generate(noise):
        return to_unit(np.concatenate([netG(noise[i : i + 500], training=False).numpy()
                                       for i in range(0, len(noise), 500)]))

    with tf.device(tf_dev):
        results["tensorflow"] = dict(train(tf_train_step, generate, tf_twin.clock), samples=generate(score_noise),
                                     twin=tf_twin)

# %%
# Scoring a generator, and what a score must rule out
# ----------------------------------------------------
# Three numbers in judge features, each against the real test images
# (``reference``), with sets of the same size:
#
# * the **kernel inception distance** (KID; Bińkowski et al., 2018): the
#   unbiased squared maximum mean discrepancy with a cubic polynomial kernel,
#   over disjoint blocks, which gives its standard error (the Fréchet distance
#   is biased by set size, KID is not);
# * **precision and recall** (Kynkäänniemi et al., 2019): the share of samples
#   inside the real images' k-nearest-neighbour balls (are they realistic?),
#   and the share of real images inside the samples' (is all of the data
#   covered?);
# * the **memorisation ratio**: the median distance of a sample to its nearest
#   training image over that of a real test image (about 1 for new images, 0
#   for copies).
#
# A score means something only if it tells a generator from what needs no
# training. So the same scores are computed for 50 training images copied
# over and over (a collapsed generator), for as many distinct training images
# copied (a perfect memoriser), for the class means (prototypes), and for a
# class-conditional diagonal Gaussian in pixel space (a real, if blurry,
# generative model, the one the network must beat); and for a second set of real
# test images, the floor no generator can pass.
scored = record_baselines(run, judge, train_unit, train_labels, reference, other_real, seed=hp.seed)
contenders = {name: c for name, c in scored.items() if c["kind"] != "floor"}
for r in results.values():
    r["values"], r["noise"], r["quality"] = score(judge, r["samples"], reference, train_unit, other_real)
    r["twin"].record({**r["values"], SEPARATION: r["separation"]}, noise=r["noise"])
print(repr(run.compare([KID, PRECISION, RECALL, MEMORY])))

# %%
# Results
# -------
# Each twin's scores against the targets, beside the strongest baseline (the
# Gaussian), with the copies and the real-image floor listed under the table.
verdict = run.verdict()
verdict

# %%
for line in findings(run, hp.steps, full_steps=STEPS["full"],
                     closing=f"The 'full' budget ({STEPS['full']:,} steps, for a GPU) is where the reference-"
                             "quality targets are stated; how far it gets was not measured for this build."):
    print(line)
memory = max(t.metrics[MEMORY] for t in run.twins) if run.twins else 0.0
if memory > 1.2:
    print(textwrap.fill(f"A memorisation ratio of {memory:.2f} means the samples lie farther from every training "
                        "image than real test images do: they are no copies, but many lie off the real images' "
                        "manifold, which is what a precision below the real images' says too.", 88))

# %%
# What the baselines look like
# ----------------------------
# Eight images of each contender: the copies look perfect and are useless as
# a generator; the prototypes and the Gaussian's samples are blurred averages.
fig, axes = plt.subplots(len(contenders), 1, figsize=(8, 1.3 * len(contenders)))
for ax, (name, contender) in zip(axes, contenders.items()):
    show_grid(contender["images"][:8], ncols=8, ax=ax, title=name)
fig.suptitle("what needs no training")
fig.tight_layout()

# %%
# Which classes the samples are
# -----------------------------
# The judge's class of every scored sample, against the real test images'
# share of each class (a tenth); a generator that forgot a class, or
# collapsed onto a few, shows here. The judge itself errs on about
# ``1 - judge.test_accuracy`` of real images, mostly between shirts, pullovers
# and coats.
fig, ax = plt.subplots(figsize=(9, 3.2))
width = 0.8 / (len(results) + 1)
histograms = {"real test images": judge.quality(other_real, reference, train_unit)["class histogram"]}
histograms |= {torchflow.frameworks.label(name): r["quality"]["class histogram"] for name, r in results.items()}
colours = [None] + [FRAMEWORK_COLOURS[name] for name in results]  # real images in grey, the twins in theirs
for i, (name, histogram) in enumerate(histograms.items()):
    ax.bar(np.arange(10) + i * width, histogram, width, label=name, color=colours[i] or "0.6")
ax.set(xticks=np.arange(10) + width * len(results) / 2, ylabel="share of samples",
       title="the judge's class of each sample")
ax.set_xticklabels(classes, rotation=30, fontsize=8)
ax.legend(fontsize=8)
fig.tight_layout()

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
# measure of quality; the scores above are.
fig, (ax_loss, ax_d) = plt.subplots(1, 2, figsize=(11, 4))
histories = {name: r["history"] for name, r in results.items()}
plot_styled_curves(histories, ("d_loss", "g_loss"), ax=ax_loss, ylabel="loss", xlabel="training step")
plot_styled_curves(histories, ("d_real", "d_fake"), ax=ax_d, ylabel="mean probability", xlabel="training step")
ax_loss.set_title("D and G losses")
ax_d.set_title("σ(D(x)) and σ(D(G(z)))")
fig.suptitle("DCGAN training, both twins")
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
# conventions, the optimiser settings, the batches and the noise; the table
# puts their scores, the baselines' and the time per training step side by side.
run.compare()

# %%
record = run.finish()
