"""
Generative adversarial nets
===========================

A generative adversarial net (Goodfellow et al., 2014) trains two networks
against each other. The *generator* :math:`G` turns noise :math:`z` into an
image; the *discriminator* :math:`D` looks at an image and says how likely it is
to be a real one. :math:`D` learns to tell the generator's images from the
training images, and :math:`G` learns to fool :math:`D`. No likelihood is
written down: the discriminator *is* the loss of the generator, and it keeps
changing.

This page trains the same GAN in PyTorch and in TensorFlow 2, with **explicit
weights**: every weight matrix is created by hand and every layer is a matrix
product. That matters more here than for the VAE, because a GAN has two
optimisers, and each must be given *its own* network's weights and no others.
The page shows what happens when one optimiser gets both lists.
"""

# sphinx_gallery_thumbnail_number = 2

# %%
# The adversarial game
# --------------------
# :math:`D(x) \in (0, 1)` is the probability that :math:`x` is real. The
# discriminator minimises the binary cross-entropy of a classifier whose real
# images have the label 1 and whose generated images have the label 0:
#
# .. math::
#
#    \mathcal{L}_D = -\,\mathbb{E}_{x \sim p_\text{data}}\big[\log D(x)\big]
#                    -\,\mathbb{E}_{z \sim p_z}\big[\log\big(1 - D(G(z))\big)\big]
#                  = \mathrm{BCE}\big(D(x), 1\big) + \mathrm{BCE}\big(D(G(z)), 0\big).
#
# In the original minimax game the generator minimises the second term,
# :math:`\mathbb{E}_z[\log(1 - D(G(z)))]`. Write :math:`D = \sigma(a)` with the
# discriminator's logit :math:`a`. The gradient that reaches the generator
# through :math:`a` is then
#
# .. math::
#
#    \frac{\partial}{\partial a}\log\big(1 - \sigma(a)\big) = -\sigma(a) = -D(G(z)),
#
# which vanishes exactly when the discriminator confidently rejects the fakes,
# that is, early in training, when the generator most needs to learn. The
# *non-saturating* loss flips the label instead of the sign,
#
# .. math::
#
#    \mathcal{L}_G = -\,\mathbb{E}_z\big[\log D(G(z))\big] = \mathrm{BCE}\big(D(G(z)), 1\big),
#    \qquad \frac{\partial}{\partial a}\big(-\log\sigma(a)\big) = -\big(1 - D(G(z))\big),
#
# has the same fixed point and a gradient near :math:`-1` where the other has
# none. Both twins use it (``generator_loss``; ``saturating=True`` gives the
# other, and the results measure both gradients).
#
# Dimension flow, as in the notes::
#
#     G: z (B, 100) ~ U(-1, 1) -> relu (B, 128) -> sigmoid (B, 784): an image
#     D: x (B, 784)            -> relu (B, 128) -> sigmoid (B, 1):   P(real)
#
# Weights: Xavier (Glorot) normal, :math:`\mathcal{N}(0, 2/(n_\text{in} + n_\text{out}))`,
# zero biases, the same scheme in both twins. The losses are computed *with
# logits* (the notes apply the sigmoid first and then the cross-entropy, which
# overflows once :math:`D` is sure); the data is Fashion-MNIST rather than MNIST
# (it ships offline).
#
# Hyperparameters, declared once
# ------------------------------
# Both twins read the same settings. Adam with :math:`\beta_1 = 0.5` (the usual
# choice for GANs: a shorter memory of past gradients, which go stale as the
# opponent moves) and epsilon set for both (Keras' default differs).
# The learning rate, batch size and number of steps were chosen on a validation
# split: trained on 55,000 training images and scored against the other 5,000
# (``benchmarks/gan-steps.md``); learning rate 2e-4 with batches of 64 stalled
# at a Fréchet distance about half the untrained generator's.
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_images
from torchflow.judge import Judge
from torchflow.plot import plot_styled_curves, side_by_side
from torchflow.training import StepClock, batch_indices, fixed_uniform

run = torchflow.Run()
hp = SimpleNamespace(
    noise_dim=100,
    hidden_dim=128,
    image_dim=784,
    batch_size=128,
    learning_rate=1e-3,
    beta_1=0.5,
    adam_epsilon=1e-8,
    steps=torchflow.scaled(smoke=40, cpu=8_000, full=30_000),
    log_every=torchflow.scaled(smoke=10, cpu=100, full=500),
    snapshots=torchflow.scaled(smoke=(10, 20, 40), cpu=(500, 2_000, 8_000), full=(1_000, 6_000, 30_000)),
    one_optimiser_steps=torchflow.scaled(smoke=10, cpu=500, full=1_000),  # the demonstration below
    score_count=torchflow.scaled(smoke=200, cpu=2_000, full=5_000),  # images per Fréchet distance
    train_size=torchflow.scaled(smoke=2_000, cpu=None, full=None),  # None: all of it
    seed=0,
)
FRECHET, RATIO = "Fréchet distance (judge features)", "Fréchet distance / untrained generator's"
GAP = "D(x) - D(G(z)) at the last step (1,000 test images, 1,000 fixed noise vectors)"
run.expect(RATIO, at_most=torchflow.scaled(smoke=0.95, cpu=1 / 3, full=1 / 3))
# The smoke run's check of the step itself: after 40 steps D tells real from fake (a D step with its labels
# swapped or on the wrong batch does not), and G's samples are nearer the test images than the untrained
# generator's (a G step that trains D instead, or nothing, leaves the ratio near 1).
run.expect(GAP, at_least=torchflow.scaled(smoke=0.3, cpu=None, full=None))
hp

# %%
# The dimension flow, traced from both twins: ``activations`` runs G on a
# noise batch and D on an image batch and records every tensor's shape.
from torchflow.flow import draw_flows, trace_twins

flows = trace_twins("gan", "GAN", np.zeros((2, hp.image_dim), np.float32), np.zeros((2, hp.noise_dim), np.float32),
                    frameworks=torchflow.available_frameworks(),
                    model_kwargs=dict(noise_dim=hp.noise_dim, hidden_dim=hp.hidden_dim, image_dim=hp.image_dim))
fig = draw_flows(flows, title="GAN: the generator (top) and the discriminator")

# %%
# Data and the judge
# ------------------
# A GAN has no held-out loss that says how good its images are. We score them
# with the book's *judge*, a small CNN classifier trained once on the
# Fashion-MNIST training set and cached: the Fréchet distance between Gaussians
# fitted to the judge's penultimate features of generated and of real test
# images (the recipe of the FID, with a task-specific network), ``score_count``
# generated images against as many test images (half the test set if that is
# fewer). Two numbers give the scale: another set of real test images of the
# same size (about what a perfect generator would reach) and each twin's
# generator before training.
train = load_images("fashion-mnist", "train").take(hp.train_size)
test = load_images("fashion-mnist", "test")
run.use_data(train, test)
judge = Judge.load("fashion-mnist")
print(f"judge: test accuracy {judge.test_accuracy:.1%}; trained on {judge.trained_on}")
train_images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
test_images = (test.images.reshape(-1, 784) / 255.0).astype(np.float32)
held_out = min(hp.score_count, len(test_images) // 2)  # the embedded subset has 1,000 test images
reference, other_real = test_images[:held_out], test_images[held_out : 2 * held_out]

# %%
# Both twins see the *same* batches and the *same* noise: the indices come from
# :func:`~torchflow.training.batch_indices` and the noise of every step from one
# seeded generator. ``grid_noise`` is a fixed batch whose images we look at
# along training; ``score_noise`` makes the images that are scored. ``train`` is
# the loop both twins share: it calls a twin's ``step`` (one ``train_step``, a D
# step then a G step) and, every ``log_every`` steps, averages the losses and measures
# :math:`D(x)` on 1,000 test images and :math:`D(G(z))` on 1,000 fixed codes.
grid_noise = fixed_uniform((16, hp.noise_dim), seed=2)
score_noise = fixed_uniform((hp.score_count, hp.noise_dim), seed=3)
probe_real, probe_noise = test_images[-1000:], fixed_uniform((1000, hp.noise_dim), seed=4)
results = {}


def train(step_fn, generate, discriminate, clock, steps=hp.steps):
    """``steps`` steps of (D step, G step); returns the curves and the grid and scores at each snapshot."""
    noise_rng = np.random.default_rng(hp.seed + 1)
    history = dict(steps=[], d_loss=[], g_loss=[], d_real=[], d_fake=[])
    snapshots, totals = {0: generate(grid_noise)}, np.zeros(2)
    frechet = {0: judge.frechet_distance(generate(score_noise), reference)}
    for step, index in enumerate(batch_indices(len(train_images), hp.batch_size, steps, hp.seed), 1):
        noise = noise_rng.uniform(-1, 1, (hp.batch_size, hp.noise_dim)).astype(np.float32)
        with clock:
            totals += step_fn(index, noise)
        if step % hp.log_every == 0:
            for key, value in zip(history, (step, *(totals / hp.log_every), discriminate(probe_real).mean(),
                                            discriminate(generate(probe_noise)).mean())):
                history[key].append(value)
            totals[:] = 0
        if step in hp.snapshots:
            snapshots[step] = generate(grid_noise)
            frechet[step] = judge.frechet_distance(generate(score_noise), reference)
            print(f"step {step}: D loss {history['d_loss'][-1]:.3f}, G loss {history['g_loss'][-1]:.3f}, "
                  f"D(x) {history['d_real'][-1]:.2f}, D(G(z)) {history['d_fake'][-1]:.2f}, "
                  f"Fréchet distance {frechet[step]:.1f}")
    return dict(history=history, snapshots=snapshots, frechet=frechet)


# %%
# The model and its training step: twins with explicit weights
# -------------------------------------------------------------
# The discriminator's weights and the generator's are two lists, named by the
# properties ``discriminator_weights`` and ``generator_weights``, and
# ``train_step`` (below the model in each tab) is one step of training: a D
# step, then a G step, each optimiser given one list. The page's loops, the
# parity tests and the study that chose the settings all call this function.
#
# .. tab-set::
#
#    .. tab-item:: PyTorch
#
#       .. literalinclude:: /../torchflow/pt/gan.py
#          :language: python
#          :pyobject: GAN
#
#       .. literalinclude:: /../torchflow/pt/gan.py
#          :language: python
#          :pyobject: train_step
#
#    .. tab-item:: TensorFlow
#
#       .. literalinclude:: /../torchflow/tf/gan.py
#          :language: python
#          :pyobject: GAN
#
#       .. literalinclude:: /../torchflow/tf/gan.py
#          :language: python
#          :pyobject: train_step
#
# The D step scores a generated batch *detached* from the generator:
# ``fake.detach()`` cuts the graph, so ``backward`` stops at D's input and
# computes no gradient for G (it would not be used, and would cost a backward
# pass through G). In the G step the gradient must flow *through* D into G,
# so D's weights receive gradients too; ``g_optimizer.step()`` ignores them,
# and ``d_optimizer.zero_grad()`` clears them before the next D step. The
# TensorFlow step is the same two steps: each ``GradientTape`` computes the
# gradients of one list of variables, and each optimiser applies them to that
# list (a Keras optimiser does not hold its variables, so each comes with its
# list, TF 1's ``minimize(loss, var_list=...)``). ``tf.stop_gradient`` plays
# the part of ``detach()``: the D step's tape then records nothing of G.
#
# Training the PyTorch twin
# -------------------------
# Two optimisers, each given one list, and the loop calling ``train_step``.
if run.trains("torch"):
    import torch

    from torchflow.device import torch_device
    from torchflow.pt.gan import GAN, train_step

    torch.manual_seed(hp.seed)
    torch_dev = torch_device()
    train_x = torch.as_tensor(train_images, device=torch_dev)
    torch_model = GAN(hp.noise_dim, hp.hidden_dim, hp.image_dim, seed=hp.seed).to(torch_dev)
    adam = dict(lr=hp.learning_rate, betas=(hp.beta_1, 0.999), eps=hp.adam_epsilon)
    d_optimizer = torch.optim.Adam(torch_model.discriminator_weights, **adam)
    g_optimizer = torch.optim.Adam(torch_model.generator_weights, **adam)

    def step(index, noise):
        losses = train_step(torch_model, (d_optimizer, g_optimizer), train_x[index],
                            torch.as_tensor(noise, device=torch_dev))
        return losses["discriminator"].item(), losses["generator"].item()

    @torch.no_grad()
    def generate(noise):
        return torch_model.generate(torch.as_tensor(noise, device=torch_dev)).cpu().numpy()

    @torch.no_grad()
    def discriminate(images):
        return torch_model.discriminate(torch.as_tensor(images, device=torch_dev)).cpu().numpy()

    untrained = generate(score_noise)
    clock = StepClock()
    results["torch"] = dict(train(step, generate, discriminate, clock), clock=clock, device=str(torch_dev),
                            untrained=untrained, generate=generate, discriminate=discriminate)

    # One optimiser given both lists, as D's and as G's: the same step, but the G step also moves D,
    # towards calling the fakes real.
    wrong = GAN(hp.noise_dim, hp.hidden_dim, hp.image_dim, seed=hp.seed).to(torch_dev)
    both = torch.optim.Adam(wrong.parameters(), **adam)

    def wrong_step(index, noise):
        losses = train_step(wrong, (both, both), train_x[index], torch.as_tensor(noise, device=torch_dev))
        return losses["discriminator"].item(), losses["generator"].item()

    results["torch"]["one_optimiser"] = train(
        wrong_step, lambda z: wrong.generate(torch.as_tensor(z, device=torch_dev)).detach().cpu().numpy(),
        lambda x: wrong.discriminate(torch.as_tensor(x, device=torch_dev)).detach().cpu().numpy(),
        StepClock(), steps=hp.one_optimiser_steps)

# %%
# Training the TensorFlow twin
# ----------------------------
# The same loop. ``train_step`` is traced inside a ``tf.function``, so the
# whole step is compiled into one XLA program (``jit_compile=True``), as on
# the VAE pages.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.device import tf_device
    from torchflow.tf.gan import GAN, train_step

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()
    with tf.device(tf_dev):
        train_x = tf.constant(train_images)
        tf_model = GAN(hp.noise_dim, hp.hidden_dim, hp.image_dim, seed=hp.seed)

    def adam():
        return keras.optimizers.Adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1, epsilon=hp.adam_epsilon)

    def make_train_step(model, d_vars, g_vars):
        d_optimizer, g_optimizer = adam(), adam()
        d_optimizer.build(d_vars)
        g_optimizer.build(g_vars)

        @tf.function(jit_compile=True)
        def graph_step(index, noise):
            losses = train_step(model, ((d_optimizer, d_vars), (g_optimizer, g_vars)), tf.gather(train_x, index),
                                noise)
            return tf.stack([losses["discriminator"], losses["generator"]])

        return lambda index, noise: graph_step(index, noise).numpy()

    def generate(noise):
        return tf_model.generate(noise).numpy()

    def discriminate(images):
        return tf_model.discriminate(images).numpy()

    untrained = generate(score_noise)
    clock = StepClock()
    with tf.device(tf_dev):
        step = make_train_step(tf_model, tf_model.discriminator_weights, tf_model.generator_weights)
        results["tensorflow"] = dict(train(step, generate, discriminate, clock), clock=clock, device=tf_dev,
                                     untrained=untrained, generate=generate, discriminate=discriminate)

        # One optimiser given both lists: the same step with var_list = every variable, twice (in the
        # D step G's variables have no gradient and are skipped; the G step also moves D).
        wrong = GAN(hp.noise_dim, hp.hidden_dim, hp.image_dim, seed=hp.seed)
        both, everything = adam(), wrong.parameters()
        both.build(everything)

        @tf.function(jit_compile=True)
        def wrong_step(index, noise):
            losses = train_step(wrong, ((both, everything), (both, everything)), tf.gather(train_x, index), noise)
            return tf.stack([losses["discriminator"], losses["generator"]])

        results["tensorflow"]["one_optimiser"] = train(
            lambda index, noise: wrong_step(index, noise).numpy(), lambda z: wrong.generate(z).numpy(),
            lambda x: wrong.discriminate(x).numpy(), StepClock(), steps=hp.one_optimiser_steps)

# %%
# Results
# -------
# The Fréchet distance of each twin's samples against real test images, after
# the last step, on the scale of its untrained generator (the target: at most a
# third of it) and of real images against real images.
for name, r in results.items():
    r["scale"] = judge.frechet_scale(reference, other_real, r["untrained"])
    r["final"] = r["frechet"][hp.steps]
    print(f"{torchflow.frameworks.label(name)}: Fréchet distance {r['final']:.1f} after {hp.steps} steps; "
          f"untrained generator {r['scale']['untrained']:.1f}, real test images {r['scale']['real']:.2f} "
          f"(ratio to untrained {r['final'] / r['scale']['untrained']:.3f})")
run.record_all(results, lambda r: {FRECHET: r["final"], RATIO: r["final"] / r["scale"]["untrained"],
                                   GAP: r["history"]["d_real"][-1] - r["history"]["d_fake"][-1]})
run.verdict()

# %%
# Samples along training
# ----------------------
# The same 16 noise vectors, decoded by each twin's generator at the start and
# at each snapshot (rows). The twins started from different random weights, so
# the same noise gives different images; what to compare is how fast the
# shapes appear and how clean they become.
labels = [f"step {s}" for s in results[next(iter(results))]["snapshots"]] if results else []
fig = side_by_side({name: np.concatenate(list(r["snapshots"].values())).reshape(-1, 28, 28)
                    for name, r in results.items()}, ncols=16, row_labels=labels,
                   suptitle="generated from a fixed noise batch along training")
fig.set_size_inches(14, 3.2)

# %%
# More samples from the trained generators, 64 of the scored noise vectors each:
fig = side_by_side({name: r["generate"](score_noise[:64]).reshape(-1, 28, 28) for name, r in results.items()},
                   ncols=8, suptitle=f"samples after {hp.steps} steps")

# %%
# Losses and the discriminator's outputs
# --------------------------------------
# Left: the D loss (solid) and the G loss (dashed) of both twins, averaged over
# ``log_every`` steps. Right: :math:`D(x)` on real test images (solid) and
# :math:`D(G(z))` on generated ones (dashed). In a game neither loss need go
# to zero: each network's progress is the other's loss (the lines below the
# figure say whether either came near zero in this build). At the game's equilibrium
# :math:`D = 1/2` everywhere and :math:`\mathcal{L}_D = 2\log 2 \approx 1.39`.
fig, (ax_loss, ax_d) = plt.subplots(1, 2, figsize=(12, 4))
histories = {name: r["history"] for name, r in results.items()}
plot_styled_curves(histories, ("d_loss", "g_loss"), ax=ax_loss, ylabel="loss")
plot_styled_curves(histories, ("d_real", "d_fake"), ax=ax_d, ylabel="mean output of D")
ax_loss.axhline(2 * np.log(2), color="grey", lw=0.8)
fig.tight_layout()
last = max(1, hp.steps // 8 // hp.log_every)  # the last eighth of training
for name, r in results.items():
    h = {key: np.mean(values[-last:]) for key, values in r["history"].items()}
    print(f"{torchflow.frameworks.label(name)}: over the last {last * hp.log_every} steps D loss {h['d_loss']:.2f}, "
          f"G loss {h['g_loss']:.2f}, D(x) {h['d_real']:.2f}, D(G(z)) {h['d_fake']:.2f}; "
          f"{'neither loss near zero' if min(h['d_loss'], h['g_loss']) > 0.1 else 'a loss near zero'}")

# %%
# Why the non-saturating loss, measured
# -------------------------------------
# At the start of training the generator is poor and the discriminator soon
# learns to reject its images. Score the *untrained* generator's images with the
# *trained* discriminator: the gradient that reaches G through each image's
# logit is :math:`-D(G(z))` for the minimax loss and :math:`-(1 - D(G(z)))` for
# the non-saturating one.
for name, r in results.items():
    d_fake = r["discriminate"](r["untrained"])
    print(f"{torchflow.frameworks.label(name)}: trained D on untrained samples: mean D(G(z)) = {d_fake.mean():.2e}; "
          f"mean |gradient| through the logit: minimax {d_fake.mean():.2e}, "
          f"non-saturating {(1 - d_fake).mean():.3f}")

# %%
# One optimiser given both lists
# ------------------------------
# Both training sections also ran the same loop for
# ``one_optimiser_steps`` steps with a single optimiser given *every* weight
# (PyTorch: ``Adam(model.parameters())``; TensorFlow: ``apply_gradients`` over
# all variables). The D step still changes D only (the fake is detached; G's
# gradients are ``None``), but the G step's gradient reaches D's weights, and
# that optimiser applies it: half of the time, D is trained to call the fakes
# real. The lines compare it with the proper run after as many steps.
n = hp.one_optimiser_steps
for name, r in results.items():
    wrong, right = r["one_optimiser"], r["history"]
    at = right["steps"].index(n) if n in right["steps"] else len(right["steps"]) - 1
    print(f"{torchflow.frameworks.label(name)} after {n} steps: one optimiser: D(x) {wrong['history']['d_real'][-1]:.2f},"
          f" D(G(z)) {wrong['history']['d_fake'][-1]:.2f}, Fréchet distance {wrong['frechet'][n]:.1f}; "
          f"two optimisers: D(x) {right['d_real'][at]:.2f}, D(G(z)) {right['d_fake'][at]:.2f}"
          + (f", Fréchet distance {r['frechet'][n]:.1f}" if n in r["frechet"] else ""))
fig = side_by_side({name: r["one_optimiser"]["snapshots"][n].reshape(-1, 28, 28) for name, r in results.items()},
                   ncols=16, suptitle=f"one optimiser for both networks: the fixed noise batch after {n} steps")
fig.set_size_inches(14, 1.8)

# %%
# Comparison
# ----------
# The Fréchet distance of each twin (lower is better) and the time per step (a
# D step and a G step). The model, the data, the batches, the noise and the
# optimiser settings are identical; the initial weights differ.
for name, r in results.items():
    print(f"{torchflow.frameworks.label(name)}: Fréchet distance {r['final']:.1f}, "
          f"{1000 * r['clock'].seconds_per_step:.2f} ms per step")
if len(results) == 2:
    a, b = (results[k]["final"] for k in ("torch", "tensorflow"))
    print(f"relative gap between the twins: {abs(a - b) / max(a, b):.1%} (of the larger)")
record = run.finish()
