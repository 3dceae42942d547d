"""
Generative adversarial nets
===========================

A generative adversarial net (Goodfellow et al., 2014) trains two networks
against each other. The *generator* :math:`G` turns noise :math:`z` into an
image; the *discriminator* :math:`D` says how likely an image is to be a real
one. :math:`D` learns to tell the generator's images from the training images,
and :math:`G` learns to fool :math:`D`: no likelihood is written down, the
discriminator *is* the generator's loss, and it keeps changing.

Both twins use **explicit weights**: every weight matrix is created by hand and
every layer is a matrix product. A GAN has two optimisers, each of which must be
given *its own* network's weights and no others; the page shows what happens
when one optimiser gets both lists.
"""

# %%
# The adversarial game
# --------------------
# :math:`D(x) = \sigma(a(x))` is the probability that :math:`x` is real. The
# discriminator minimises the cross-entropy of a classifier with real images
# labelled 1 and generated ones 0:
#
# .. math::
#
#    \mathcal{L}_D = \mathrm{BCE}\big(D(x), 1\big) + \mathrm{BCE}\big(D(G(z)), 0\big).
#
# In the minimax game the generator minimises :math:`\log(1 - D(G(z)))`, whose
# gradient through the logit, :math:`-D(G(z))`, vanishes exactly when :math:`D`
# confidently rejects the fakes, early in training. The *non-saturating* loss
# flips the label instead of the sign,
#
# .. math::
#
#    \mathcal{L}_G = \mathrm{BCE}\big(D(G(z)), 1\big) = -\log D(G(z)),
#    \qquad \frac{\partial \mathcal{L}_G}{\partial a} = -\big(1 - D(G(z))\big),
#
# with the same fixed point and a gradient near :math:`-1` where the other has
# none (measured below). The networks::
#
#     G: z (B, 100) ~ U(-1, 1) -> relu (B, 128) -> sigmoid (B, 784): an image
#     D: x (B, 784)            -> relu (B, 128) -> sigmoid (B, 1):   P(real)
#
# Departures from the reference (Goodfellow et al., 2014):
#
# * Fashion-MNIST instead of MNIST (it ships offline);
# * one hidden layer of 128 ReLU units per network, no maxout and no dropout;
# * the non-saturating G loss (the paper's practical advice) in every step;
# * losses computed from logits (no overflow once :math:`D` is sure);
# * Adam (:math:`\beta_1 = 0.5`) instead of SGD with momentum, one D step per G step;
# * samples scored in judge features against baselines, not by Parzen windows.

# sphinx_gallery_thumbnail_number = 4
import json
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_images
from torchflow.generative import KID, MEMORY, PRECISION, RECALL, findings, record_baselines, score
from torchflow.judge import Judge
from torchflow.metrics import class_histogram
from torchflow.plot import plot_styled_curves, side_by_side
from torchflow.training import StepClock, batch_indices, fixed_uniform


def say(text: str) -> None:
    """Print ``text`` wrapped to the page's 88 columns."""
    print(textwrap.fill(text, 88, subsequent_indent="    "))


run = torchflow.Run()
STEPS = dict(smoke=40, cpu=8_000, full=30_000)  # training steps per budget
hp = torchflow.Settings(
    noise_dim=100, hidden_dim=128, image_dim=784,
    batch_size=128, learning_rate=1e-3, beta_1=0.5, adam_epsilon=1e-8,
    steps=torchflow.scaled(**STEPS),
    log_every=torchflow.scaled(smoke=10, cpu=100, full=500),
    snapshots=torchflow.scaled(smoke=(10, 20, 40), cpu=(500, 2_000, 8_000), full=(1_000, 6_000, 30_000)),
    one_optimiser_steps=torchflow.scaled(smoke=10, cpu=500, full=1_000),  # the demonstration below
    score_count=torchflow.scaled(smoke=200, cpu=2_000, full=5_000),  # images in every scored set
    train_size=torchflow.scaled(smoke=2_000, cpu=None, full=None),  # None: all of it
    seed=0,
)
# Quality targets that the copies and the prototypes fail (shown below): KID below the Gaussian's,
# precision and recall above values chosen on the validation split, and samples that are no copies.
run.expect(KID, below_baseline_by=torchflow.scaled(smoke=None, cpu=0.0, full=0.0))
run.expect(PRECISION, at_least=torchflow.scaled(smoke=None, cpu=0.5, full=0.6))
run.expect(RECALL, at_least=torchflow.scaled(smoke=None, cpu=0.25, full=0.5))
run.expect(MEMORY, at_least=torchflow.scaled(smoke=None, cpu=0.8, full=0.8))
# The smoke run's check of the step itself: after 40 steps D tells real from fake (a D step with its
# labels swapped, or one that never updates D, does not).
GAP = "D(x) − D(G(z)), 1,000 test images and 1,000 fixed codes"
run.expect(GAP, at_least=torchflow.scaled(smoke=0.3, cpu=None, full=None))

study_path = (Path(globals().get("__file__", "plot_1_gan.py")).resolve().parents[2]
              / "studies" / "gan" / "steps" / "results.json")
study = json.loads(study_path.read_text())["GAN"] if study_path.exists() else {}
if study:  # the chosen step count's validation score beside its neighbours', with its noise
    evidence = "validation KID (± s.e.) at " + ", ".join(
        f"{int(s):,}: {r['kid']:.3f} ± {r['kid standard error']:.3f}" for s, r in study.items())
else:
    evidence = "validation KID (the study's table is not in this checkout)"
run.chosen_by("learning rate 1e-3, batches of 128, 8,000 steps", study="studies/gan/steps/results.md",
              evidence=evidence)
hp

# %%
# The dimension flow, traced from both twins (``activations`` runs G on a
# noise batch and D on an image batch):
from torchflow.flow import draw_flows, trace_twins

flows = trace_twins("gan", "GAN", np.zeros((2, hp.image_dim), np.float32), np.zeros((2, hp.noise_dim), np.float32),
                    frameworks=torchflow.available_frameworks(),
                    model_kwargs=dict(noise_dim=hp.noise_dim, hidden_dim=hp.hidden_dim, image_dim=hp.image_dim))
fig = draw_flows(flows, title="GAN: the generator (top) and the discriminator")

# %%
# Data, and how samples are scored
# --------------------------------
# A GAN has no held-out loss that says how good its images are. The book
# scores samples in the feature space of its judge, a CNN classifier trained
# once on the training images (:mod:`torchflow.generative` explains each score
# and the baselines). Every scored set has the same size.
train = load_images("fashion-mnist", "train").take(hp.train_size)
test = load_images("fashion-mnist", "test")
run.use_data(train, test)
judge = Judge.load("fashion-mnist")
classes = list(train.classes)
train_images, test_images = ((s.images.reshape(-1, 784) / 255.0).astype(np.float32) for s in (train, test))
count = min(hp.score_count, len(test_images) // 2)
reference, other_real = test_images[:count], test_images[count : 2 * count]
print(f"judge: test accuracy {judge.test_accuracy:.1%}; every scored set has {count:,} images")

# %%
# ``run_steps`` is the loop both twins share: the same batches
# (:func:`~torchflow.training.batch_indices`), the same noise, and every
# ``log_every`` steps the averaged losses and :math:`D` on 1,000 test images
# and 1,000 fixed codes.
grid_noise = fixed_uniform((8, hp.noise_dim), seed=2)
score_noise = fixed_uniform((count, hp.noise_dim), seed=3)
probe_real, probe_noise = test_images[-1000:], fixed_uniform((1000, hp.noise_dim), seed=4)
results = {}


def run_steps(step_fn, generate, discriminate, clock, steps=hp.steps):
    """``steps`` (D step, G step) pairs: the curves, and the fixed codes' images at each snapshot."""
    noise_rng = np.random.default_rng(hp.seed + 1)
    history = dict(steps=[], d_loss=[], g_loss=[], d_real=[], d_fake=[])
    snapshots, totals = {0: generate(grid_noise)}, np.zeros(2)
    for step, index in enumerate(batch_indices(len(train_images), hp.batch_size, steps, hp.seed), 1):
        noise = noise_rng.uniform(-1, 1, (hp.batch_size, hp.noise_dim)).astype(np.float32)
        with clock:
            totals += step_fn(index, noise)
        if step % hp.log_every == 0:
            d = discriminate(probe_real).mean(), discriminate(generate(probe_noise)).mean()
            for key, v in zip(history, (step, *(totals / hp.log_every), *d)):
                history[key].append(v)
            totals[:] = 0
        if step in hp.snapshots:
            snapshots[step] = generate(grid_noise)
    return dict(history=history, snapshots=snapshots)


# %%
# The model and its training step
# -------------------------------
# ``discriminator_weights`` and ``generator_weights`` are the two lists;
# ``train_step`` is a D step, then a G step, each optimiser given one list.
#
# .. tab-set::
#    :sync-group: framework
#
#    .. tab-item:: PyTorch
#       :sync: torch
#
#       .. literalinclude:: /../torchflow/pt/gan.py
#          :language: python
#          :pyobject: train_step
#
#    .. tab-item:: TensorFlow
#       :sync: tensorflow
#
#       .. literalinclude:: /../torchflow/tf/gan.py
#          :language: python
#          :pyobject: train_step
#
# The D step scores a generated batch that carries no path back to G. In
# PyTorch, ``fake.detach()`` cuts the graph, so ``backward`` stops at D's
# input. In TensorFlow, ``model.generate`` runs *before* the tape opens, so the
# tape never records G at all: that, not ``tf.stop_gradient``, is what plays
# the part of ``detach()`` here (the ``stop_gradient`` changes nothing; it
# would matter if G ran inside the tape, as on the DCGAN page). In the G step
# the gradient flows through D into G, so D's weights get gradients too;
# only G's optimiser (PyTorch) or G's ``var_list`` (TensorFlow) applies them.
#
# Both twins start from the same weights: the PyTorch twin's initial weights,
# copied into the TensorFlow twin by :func:`torchflow.convert.copy_weights`.
if run.trains("torch"):
    import copy

    import torch

    from torchflow.pt.gan import GAN, train_step

    torch_twin = run.twin("torch", mode="eager")
    torch.manual_seed(hp.seed)
    dev = torch_twin.device
    train_x = torch.as_tensor(train_images, device=dev)
    torch_model = GAN(hp.noise_dim, hp.hidden_dim, hp.image_dim, seed=hp.seed).to(dev)
    initial = copy.deepcopy(torch_model)  # the TensorFlow twin starts from these
    adam = dict(lr=hp.learning_rate, betas=(hp.beta_1, 0.999), eps=hp.adam_epsilon)

    def torch_loop(model, optimizers, clock, steps=hp.steps):
        def step(index, noise):
            losses = train_step(model, optimizers, train_x[index], torch.as_tensor(noise, device=dev))
            return losses["discriminator"].item(), losses["generator"].item()

        @torch.no_grad()
        def generate(z):
            return model.generate(torch.as_tensor(z, device=dev)).cpu().numpy()

        @torch.no_grad()
        def discriminate(x):
            return model.discriminate(torch.as_tensor(x, device=dev)).cpu().numpy()

        return dict(run_steps(step, generate, discriminate, clock, steps), generate=generate, discriminate=discriminate)

    untrained = torch_model.generate(torch.as_tensor(score_noise, device=dev)).detach().cpu().numpy()
    optimizers = tuple(torch.optim.Adam(w, **adam) for w in (torch_model.discriminator_weights,
                                                               torch_model.generator_weights))
    results["torch"] = dict(torch_loop(torch_model, optimizers, torch_twin.clock), twin=torch_twin,
                            untrained=untrained)
    # One optimiser given every weight, as D's and as G's:
    wrong = copy.deepcopy(initial)
    both = torch.optim.Adam(wrong.parameters(), **adam)
    results["torch"]["one_optimiser"] = torch_loop(wrong, (both, both), StepClock(),
                                                   hp.one_optimiser_steps)
    results["torch"]["g_steps"] = int(both.state[wrong.generator_weights[0]]["step"])  # Adam's own count

# %%
# The TensorFlow twin: the same loop, ``train_step`` traced into one XLA
# program (``jit_compile=True``).
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.convert import copy_weights
    from torchflow.families import family
    from torchflow.tf.gan import GAN, train_step

    tf_twin = run.twin("tensorflow", mode="tf.function + XLA")
    keras.utils.set_random_seed(hp.seed)
    with tf.device(tf_twin.device):
        train_x = tf.constant(train_images)

        def tf_model_like_torch():
            model = GAN(hp.noise_dim, hp.hidden_dim, hp.image_dim, seed=hp.seed)
            if "torch" in results:
                copy_weights(initial, model, family("gan"))
            return model

        def tf_loop(model, optimizers, clock, steps=hp.steps):
            for optimizer, var_list in optimizers:
                if not optimizer.built:  # one optimiser given twice is built once
                    optimizer.build(var_list)

            @tf.function(jit_compile=True)
            def graph_step(index, noise):
                losses = train_step(model, optimizers, tf.gather(train_x, index), noise)
                return tf.stack([losses["discriminator"], losses["generator"]])

            def generate(z):
                return model.generate(z).numpy()

            def discriminate(x):
                return model.discriminate(x).numpy()

            return dict(run_steps(lambda i, z: graph_step(i, z).numpy(), generate, discriminate, clock, steps),
                        generate=generate, discriminate=discriminate)

        def adam():
            return keras.optimizers.Adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1, epsilon=hp.adam_epsilon)

        tf_model = tf_model_like_torch()
        untrained = tf_model.generate(score_noise).numpy()
        optimizers = ((adam(), tf_model.discriminator_weights), (adam(), tf_model.generator_weights))
        results["tensorflow"] = dict(tf_loop(tf_model, optimizers, tf_twin.clock), twin=tf_twin,
                                     untrained=untrained)
        wrong = tf_model_like_torch()
        both = adam()
        results["tensorflow"]["one_optimiser"] = tf_loop(
            wrong, ((both, wrong.parameters()), (both, wrong.parameters())), StepClock(),
            hp.one_optimiser_steps)
        results["tensorflow"]["g_steps"] = int(both.iterations.numpy())  # one count for every variable

# %%
# Scores, and what a score must rule out
# --------------------------------------
# Each twin's samples, and, for scale, what needs no training: 50 training
# images copied over and over, as many distinct training images copied, the
# class means, a class-conditional diagonal Gaussian in pixel space (the cheap
# model the network must beat) and more real test images (the floor).
train_unit = train_images.reshape(-1, 28, 28)
scored = record_baselines(run, judge, train_unit, train.labels, reference.reshape(-1, 28, 28),
                          other_real.reshape(-1, 28, 28), seed=hp.seed)
for r in results.values():
    r["samples"] = r["generate"](score_noise).reshape(-1, 28, 28)
    r["values"], r["noise"], r["quality"] = score(judge, r["samples"], reference.reshape(-1, 28, 28), train_unit)
    h = r["history"]
    r["twin"].record({**r["values"], GAP: h["d_real"][-1] - h["d_fake"][-1]}, noise=r["noise"])

# %%
# Results
# -------
verdict = run.verdict()
verdict

# %%
for line in findings(run, hp.steps, full_steps=STEPS["full"]):
    print(line)

# %%
# Which classes the samples are
# -----------------------------
# The judge's class of every scored sample beside the real test images' share
# (a tenth each; the judge itself errs on about one real image in ten). An
# unconditional GAN may drop whole classes: the lines below say which.
fig, ax = plt.subplots(figsize=(8, 3.4))
histograms = {"real test images": class_histogram(judge.predict(other_real.reshape(-1, 28, 28)), 10)}
histograms |= {torchflow.frameworks.label(n): r["quality"]["class histogram"] for n, r in results.items()}
width = 0.8 / len(histograms)
for i, (name, histogram) in enumerate(histograms.items()):
    ax.bar(np.arange(10) + i * width, histogram, width, label=name)
ax.set(xticks=np.arange(10) + 0.4 - width / 2, ylabel="share of samples", title="the judge's class of each sample")
ax.set_xticklabels(classes, rotation=30, fontsize=8)
ax.legend(fontsize=8)
fig.tight_layout()
footwear_and_bags = [c for c in ("Sandal", "Sneaker", "Ankle boot", "Bag") if c in classes]
for name, r in results.items():
    share = {c: r["quality"]["class histogram"][classes.index(c)] for c in footwear_and_bags}
    shares = ", ".join(f"{c} {v:.1%}" for c, v in share.items())
    none = [c for c, v in share.items() if v == 0]
    say(f"{torchflow.frameworks.label(name)}: shoes and bags among {count:,} samples: {shares}"
          + (f"; no sample is judged as: {', '.join(none)}" if none else ""))

# %%
# Samples along training
# ----------------------
# The same eight codes, decoded before training and at each snapshot. The
# twins started from the same weights and see the same batches, so where the
# same code gives different images, float32 rounding has grown through training.
rows = list(next(iter(results.values()), {}).get("snapshots", {}))
fig = side_by_side({n: np.concatenate([r["snapshots"][s] for s in rows]).reshape(-1, 28, 28)
                    for n, r in results.items()}, ncols=8, row_labels=[f"step {s}" for s in rows],
                   suptitle="eight fixed codes along training")

# %%
# The first 64 scored samples of each trained generator:
fig = side_by_side({n: r["samples"][:64] for n, r in results.items()}, ncols=8,
                   suptitle=f"samples after {hp.steps:,} steps")

# %%
# Losses and the discriminator's outputs
# --------------------------------------
# Left: D loss (solid) and G loss (dashed). Right: :math:`D(x)` on test images
# (solid) and :math:`D(G(z))` (dashed). Neither loss need fall: each network's
# progress is the other's loss. At the equilibrium :math:`D = 1/2` and
# :math:`\mathcal{L}_D = 2\log 2` (the grey line).
fig, (ax_loss, ax_d) = plt.subplots(1, 2, figsize=(11, 4))
histories = {n: r["history"] for n, r in results.items()}
plot_styled_curves(histories, ("d_loss", "g_loss"), ax=ax_loss, ylabel="loss", xlabel="step")
plot_styled_curves(histories, ("d_real", "d_fake"), ax=ax_d, ylabel="mean output of D", xlabel="step")
ax_loss.axhline(2 * np.log(2), color="grey", lw=0.8)
ax_loss.set_title("losses")
ax_d.set_title("D on real images and on samples")
fig.tight_layout()

# %%
# Why the non-saturating loss, measured
# -------------------------------------
# The *untrained* generator's images scored by the *trained* discriminator: the
# gradient through each logit is :math:`-D(G(z))` for the minimax loss and
# :math:`-(1 - D(G(z)))` for the non-saturating one.
for name, r in results.items():
    d_fake = r["discriminate"](r["untrained"])
    say(f"{torchflow.frameworks.label(name)}: mean |gradient| through the logit: minimax "
          f"{d_fake.mean():.2e}, non-saturating {(1 - d_fake).mean():.3f}")

# %%
# One optimiser given both lists
# ------------------------------
# Both twins also ran ``one_optimiser_steps`` steps with a single Adam given
# *every* weight, as D's and as G's optimiser. The D step still moves D only
# (G's gradients are ``None``), but the G step's gradient reaches D's
# weights and that optimiser applies it: every other update trains D to call
# the fakes real.
#
# The twins also count differently. PyTorch's Adam keeps a step count per
# weight (G's weights get one update per step, D's two); Keras keeps one
# count per optimiser and ``apply_gradients`` advances it on each call, twice
# per step. Adam scales each update by
# :math:`\sqrt{1 - \beta_2^t} / (1 - \beta_1^t)`, so after :math:`n` steps G's
# updates use :math:`t = n` in PyTorch and :math:`t = 2n` in Keras. The
# counts below are read from the optimisers themselves.
n = hp.one_optimiser_steps
for name, r in results.items():
    w, h = r["one_optimiser"]["history"], r["history"]
    at = h["steps"].index(n) if n in h["steps"] else -1
    say(f"{torchflow.frameworks.label(name)}, step {n}: one optimiser D(x) {w['d_real'][-1]:.2f}, "
          f"D(G(z)) {w['d_fake'][-1]:.2f}; two optimisers D(x) {h['d_real'][at]:.2f}, "
          f"D(G(z)) {h['d_fake'][at]:.2f}")


def adam_scale(t: int) -> float:
    return np.sqrt(1 - 0.999**t) / (1 - hp.beta_1**t)


if len(results) == 2:
    t_torch, t_tf = results["torch"]["g_steps"], results["tensorflow"]["g_steps"]
    say(f"after {n} steps, Adam's count for G's weights: PyTorch {t_torch}, Keras {t_tf}; G's "
          f"update is {adam_scale(t_tf) / adam_scale(t_torch) - 1:+.1%} larger in Keras")
fig = side_by_side({n_: r["one_optimiser"]["snapshots"][n].reshape(-1, 28, 28) for n_, r in results.items()},
                   ncols=8, suptitle=f"one optimiser for both networks: eight codes after {n} steps")

# %%
# Comparison
# ----------
# The twins share the weights they start from, the batches, the noise and the
# optimiser settings; the table puts their scores and time per step side by side.
run.compare([KID, PRECISION, RECALL, MEMORY, GAP])

# %%
record = run.finish()
