"""
Variational autoencoder
=======================

A variational autoencoder (VAE) compresses an image :math:`x` into a
*distribution* over a small latent code :math:`z`, and learns to decode codes
back into images. Because the codes of the training images are pushed towards a
standard normal distribution, decoding a code drawn from :math:`\\mathcal{N}(0, I)`
gives a new, plausible image: the VAE is a generative model.

This page trains the same VAE twice, once in PyTorch and once in TensorFlow 2,
on Fashion-MNIST, and compares what the twins learned. Both are written with
**explicit weights**: each weight matrix is created by hand and each layer is a
matrix product, so nothing is hidden in a layer class, and an optimiser can be
handed any subset of the weights (shown at the end of the training sections).
"""

# sphinx_gallery_thumbnail_number = 4

# %%
# The evidence lower bound
# ------------------------
#
# The encoder :math:`q_\phi(z \mid x) = \mathcal{N}(\mu_\phi(x), \operatorname{diag}\sigma^2_\phi(x))`
# and the decoder :math:`p_\theta(x \mid z)`, a Bernoulli distribution over each
# pixel, are trained together by maximising the evidence lower bound (ELBO) on
# :math:`\log p_\theta(x)`; we minimise its negative, per image:
#
# .. math::
#
#    \mathcal{L}(x) = \underbrace{-\,\mathbb{E}_{q_\phi(z\mid x)}\big[\log p_\theta(x \mid z)\big]}_{\text{reconstruction: binary cross-entropy, summed over 784 pixels}}
#    \;+\; \underbrace{\mathrm{KL}\big(q_\phi(z \mid x)\,\|\,\mathcal{N}(0, I)\big)}_{\text{keeps the codes near the prior}}
#
# (The original notes write the loss as ":math:`E[\log P(X \mid z)] + \mathrm{KL}`"; the
# first term needs a minus sign, as above, for the sum to be minimised.)
# For a diagonal Gaussian against the standard normal the KL term has a closed
# form (Kingma & Welling, 2014, Appendix B):
#
# .. math::
#
#    \mathrm{KL} = -\tfrac12 \sum_{j=1}^{d} \left(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\right).
#
# To backpropagate through the sampling of :math:`z` we use the
# *reparameterisation trick*: :math:`z = \mu + \sigma \odot \varepsilon` with
# :math:`\varepsilon \sim \mathcal{N}(0, I)`, so the randomness is an input and
# :math:`z` is a differentiable function of :math:`\mu` and :math:`\sigma`.
#
# **Grey pixels and a Bernoulli decoder.** Fashion-MNIST pixels are grey levels
# :math:`x_i \in [0, 1]`, not the 0 or 1 a Bernoulli distribution describes, so the
# cross-entropy :math:`-x_i \log p_i - (1 - x_i)\log(1 - p_i)` is not a likelihood of
# the grey image. It is, exactly, the expected negative log-likelihood of a *binary*
# pixel drawn as :math:`b_i \sim \mathrm{Bernoulli}(x_i)`, and the ELBO holds for
# any :math:`q`, so the loss is an upper bound in nats on :math:`-\log p_\theta(b)`
# averaged over such stochastically binarised images, the figure usually reported
# for MNIST-like data. We keep the grey levels as targets instead of sampling
# :math:`b` each batch (dynamic binarisation): the loss and its gradient are the
# same in expectation without the sampling noise, and the encoder sees the grey
# images; the results section checks the equality on actual binary draws.
# The loss uses the cross-entropy *with logits* (the notes apply the sigmoid first),
# which computes :math:`\log\sigma(\cdot)` without overflow.
#
# Dimension flow, with the batch size :math:`B`::
#
#     x (B, 784) -> relu(x W1 + b1) (B, 128) -> mean (B, 100), logvar (B, 100)
#     z = mean + exp(logvar / 2) * noise                               (B, 100)
#     z (B, 100) -> relu(z W4 + b4) (B, 128) -> logits (B, 784) -> sigmoid -> image
#
# Hyperparameters, declared once
# ------------------------------
# Both twins read the same settings, the optimiser's included: Adam's epsilon is
# 1e-8 in PyTorch and 1e-7 in Keras by default, so it is set here for both. One
# difference remains that no setting removes: Keras adds epsilon to
# :math:`\sqrt{v}` *before* the bias correction, PyTorch after, so with the same
# value Keras' effective epsilon is :math:`\epsilon / \sqrt{1 - \beta_2^t}`
# (3.2e-7 at the first step, 1e-8 again after a few thousand). The trajectory
# tests (``tests/test_parity_vae.py``) measure what that and float32 rounding do
# over 60 steps, and show in float64, with PyTorch's update made to match
# Keras' exactly, that the twins compute the same training. The
# budget switch (``TORCHFLOW_BUDGET``: ``smoke``, ``cpu`` or ``full``) sets how
# many optimiser steps to train: the same number whether the data is the full
# 60,000-image training set or the 6,000-image subset that ships with the book
# (which is then cycled). The target is the held-out bound that this budget
# reached when measured, with a margin (``benchmarks/vae-cpu.md``).
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_images
from torchflow.plot import plot_curves, show_grid, side_by_side
from torchflow.training import StepClock, batch_indices, batched_mean, fixed_normal, latent_traversal

run = torchflow.Run()
hp = SimpleNamespace(
    input_dim=784,
    hidden_dim=128,
    latent_dim=100,
    batch_size=100,
    learning_rate=1e-3,
    adam_epsilon=1e-8,
    steps=torchflow.scaled(smoke=60, cpu=9_000, full=30_000),
    eval_every=torchflow.scaled(smoke=30, cpu=600, full=600),  # 600 steps of 100: one pass of the full data
    decoder_steps=torchflow.scaled(smoke=30, cpu=1_200, full=1_200),  # the decoder-only run below
    train_size=torchflow.scaled(smoke=2_000, cpu=None, full=None),  # None: all of it
    test_size=torchflow.scaled(smoke=500, cpu=None, full=None),
    seed=0,
)
METRIC = "held-out negative ELBO (nats, binarised pixels)"
run.expect(METRIC, at_most=torchflow.scaled(smoke=None, cpu=250, full=250))
# smoke: training took the held-out loss well below the untrained model's (a step that does not learn: 1)
UNTRAINED = "held-out negative ELBO, fraction of the untrained model's"
run.expect(UNTRAINED, at_most=torchflow.scaled(smoke=0.8, cpu=None, full=None))
hp

# %%
# The dimension flow, traced from the twins
# -----------------------------------------
# This figure is not drawn by hand: :func:`torchflow.flow.trace_twins` builds
# each twin with the hyperparameters above, passes a batch of two blank images
# through its ``activations`` and records the shape of every intermediate
# tensor. :func:`torchflow.flow.draw_flows` first checks that both twins give
# the same shapes, step by step, and then draws them.
from torchflow.flow import draw_flows, trace_twins

flows = trace_twins("vae", "VAE", np.zeros((2, hp.input_dim), np.float32),
                    frameworks=torchflow.available_frameworks(),
                    model_kwargs=dict(input_dim=hp.input_dim, hidden_dim=hp.hidden_dim, latent_dim=hp.latent_dim))
fig = draw_flows(flows, title="VAE: encoder, reparameterised sample, decoder")

# %%
# Data
# ----
# Fashion-MNIST: 28×28 grey-scale photos of clothes in ten classes. The notes
# train on MNIST digits; the book uses Fashion-MNIST because it ships offline
# (a Debian package, and a real subset inside TorchFlow). The loader returns NumPy
# arrays and a record of where the data came from. Pixels are scaled to [0, 1]
# and flattened to 784 values.
train = load_images("fashion-mnist", "train").take(hp.train_size)
test = load_images("fashion-mnist", "test").take(hp.test_size)
run.use_data(train, test)
train_images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
test_images = (test.images.reshape(-1, 784) / 255.0).astype(np.float32)
print(f"train {train_images.shape}, test {test_images.shape}")

# %%
# Both twins train on the *same* batches: :func:`torchflow.training.batch_indices`
# gives the item indices of every step (a fresh permutation per pass over the
# data), and each twin slices its batch out of the training set held in memory as
# one tensor. They are evaluated with the *same* noise :math:`\varepsilon` for
# the held-out loss, decode the *same* prior samples, and traverse the *same*
# codes, so that any difference on this page comes from the frameworks and the
# initial weights, not from luck. ``train`` below is the loop both twins share:
# it calls a twin's ``train_step`` on each batch and evaluates every
# ``eval_every`` steps.
eval_noise = fixed_normal((len(test_images), hp.latent_dim), seed=1)
prior_codes = fixed_normal((64, hp.latent_dim), seed=2)
results = {}


def train(train_step, held_out_loss, steps, clock, what="step"):
    """``steps`` optimiser steps on the shared batches; returns the training and held-out curves."""
    curve, test_curve, losses = [], [], []
    for step, index in enumerate(batch_indices(len(train_images), hp.batch_size, steps, hp.seed), 1):
        with clock:
            losses.append(train_step(index))
        if step % hp.eval_every == 0 or step == steps:
            curve.append(np.mean(losses))
            test_curve.append(held_out_loss())
            losses = []
            print(f"{what} {step}: train {curve[-1]:.1f}, held-out {test_curve[-1]:.1f} nats")
    return curve, test_curve


# %%
# The model: twins with explicit weights
# --------------------------------------
# The two modules have the same class, the same argument names and defaults,
# the same weight names and the same methods; ``diff`` shows only the framework
# calls. The loss is written exactly as the equations above.
#
# .. tab-set::
#
#    .. tab-item:: PyTorch
#
#       .. literalinclude:: /../torchflow/pt/vae.py
#          :language: python
#          :pyobject: VAE
#
#    .. tab-item:: TensorFlow
#
#       .. literalinclude:: /../torchflow/tf/vae.py
#          :language: python
#          :pyobject: VAE
#
# Training the PyTorch twin
# -------------------------
# The optimiser receives an explicit list of weights, ``model.parameters()``.
# One step: slice the batch, forward pass and loss, ``zero_grad``, ``backward``,
# ``step``. The training set sits on the device as one tensor, so a batch is a
# single indexing operation (the classifier page shows the ``DataLoader``, which
# earns its keep when data must be read or augmented on the fly).
#
# Two settings make the PyTorch step cheaper on a CPU while computing the same
# update up to rounding (``benchmarks/vae-steps.md`` measures both; the fused
# update's weights stayed within 3.3e-7 of their scale of the unfused ones over
# 300 steps, and flushing only zeroes values below 1e-38): ``fused=True`` updates each
# weight with one Adam kernel instead of a chain of small operations, and
# ``torch.set_flush_denormal(True)`` treats subnormal numbers, below about
# 1e-38, as zero. Late in training the unused latent units get tiny gradients,
# Adam's running averages of their squares can fall into that range, and x86
# processors compute with subnormals many times slower.
if run.trains("torch"):
    import torch

    from torchflow.device import torch_device
    from torchflow.pt.vae import VAE

    torch.manual_seed(hp.seed)
    torch.set_flush_denormal(True)
    torch_dev = torch_device()
    train_x = torch.as_tensor(train_images, device=torch_dev)
    test_x, test_noise = (torch.as_tensor(a, device=torch_dev) for a in (test_images, eval_noise))
    torch_model = VAE(hp.input_dim, hp.hidden_dim, hp.latent_dim, seed=hp.seed).to(torch_dev)
    torch_optimizer = torch.optim.Adam(torch_model.parameters(), lr=hp.learning_rate, eps=hp.adam_epsilon,
                                       fused=True)

    def make_train_step(model, optimizer):
        def train_step(index):
            loss, reconstruction, kl = model.loss(train_x[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()  # changes the weights this optimiser was given, and no others
            return loss.item()
        return train_step

    def held_out(model):
        @torch.no_grad()
        def loss():  # on the test set, with the shared noise
            return batched_mean(lambda x, e: model.loss(x, noise=e)[0].item(), test_x, test_noise)
        return loss

    clock = StepClock()
    evaluate = held_out(torch_model)
    untrained = evaluate()  # the held-out loss before any step
    curve, test_curve = train(make_train_step(torch_model, torch_optimizer), evaluate, hp.steps, clock)

    # Only the decoder: a model with fresh random weights receives the trained
    # encoder's weights, and its optimiser is given the decoder's weights alone.
    retrained = VAE(hp.input_dim, hp.hidden_dim, hp.latent_dim, seed=hp.seed + 1).to(torch_dev)
    with torch.no_grad():
        for name, weight in retrained.weights.items():
            if name.startswith("encoder"):
                weight.copy_(torch_model.weights[name])
    decoder = [weight for name, weight in retrained.weights.items() if name.startswith("decoder")]
    before = held_out(retrained)()
    _, decoder_curve = train(make_train_step(retrained, torch.optim.Adam(decoder, lr=hp.learning_rate,
                                                                         eps=hp.adam_epsilon, fused=True)),
                             held_out(retrained), hp.decoder_steps, StepClock(), "decoder-only step")
    encoder_moved = max((retrained.weights[n] - torch_model.weights[n]).abs().max().item()
                        for n in retrained.weights if n.startswith("encoder"))

    with torch.no_grad():
        mean, logvar = torch_model.encode(test_x)
        results["torch"] = dict(
            curve=curve, test_curve=test_curve, untrained=untrained, clock=clock, device=str(torch_dev),
            decoder_only=dict(before=before, curve=decoder_curve, encoder_moved=encoder_moved),
            logits=torch_model.decode(torch_model.sample_latent(mean, logvar, test_noise)).cpu().numpy(),
            reconstructions=torch_model.generate(mean[:10]).cpu().numpy(),
            samples=torch_model.generate(torch.as_tensor(prior_codes, device=torch_dev)).cpu().numpy(),
            mean=mean.cpu().numpy(), logvar=logvar.cpu().numpy(),
            decode=lambda codes: torch_model.generate(torch.as_tensor(codes, device=torch_dev)).detach().cpu().numpy(),
        )

# %%
# Training the TensorFlow twin
# ----------------------------
# The same step in TensorFlow: the forward pass runs under a ``GradientTape``,
# and the gradients of an explicit list of variables, the ``var_list``, are
# computed and applied. ``@tf.function(jit_compile=True)`` compiles the step,
# ``tf.gather`` of the batch out of the training set included, into one XLA
# program that fuses its many small operations (the first call traces and
# compiles it; ``benchmarks/vae-steps.md`` measures the gain on a CPU).
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.device import tf_device
    from torchflow.tf.vae import VAE

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()
    with tf.device(tf_dev):
        train_x, test_x, test_noise = (tf.constant(a) for a in (train_images, test_images, eval_noise))
        tf_model = VAE(hp.input_dim, hp.hidden_dim, hp.latent_dim, seed=hp.seed)
    tf_optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate, epsilon=hp.adam_epsilon)

    def make_train_step(model, optimizer, var_list):
        @tf.function(jit_compile=True)
        def train_step(index):
            with tf.GradientTape() as tape:
                loss, reconstruction, kl = model.loss(tf.gather(train_x, index))
            gradients = tape.gradient(loss, var_list)
            optimizer.apply_gradients(zip(gradients, var_list))  # only the variables of var_list change
            return loss
        return lambda index: float(train_step(index))

    def held_out(model):
        loss = tf.function(lambda x, e: model.loss(x, noise=e)[0])
        return lambda: batched_mean(loss, test_x, test_noise)

    clock = StepClock()
    with tf.device(tf_dev):
        evaluate = held_out(tf_model)
        untrained = evaluate()  # the held-out loss before any step
        curve, test_curve = train(make_train_step(tf_model, tf_optimizer, tf_model.parameters()),
                                  evaluate, hp.steps, clock)

        # Only the decoder, as in PyTorch: the trained encoder's weights are
        # copied in, and the var_list holds the decoder's variables alone.
        retrained = VAE(hp.input_dim, hp.hidden_dim, hp.latent_dim, seed=hp.seed + 1)
        for name, weight in retrained.weights.items():
            if name.startswith("encoder"):
                weight.assign(tf_model.weights[name])
        decoder = [weight for name, weight in retrained.weights.items() if name.startswith("decoder")]
        before = held_out(retrained)()
        _, decoder_curve = train(make_train_step(retrained, keras.optimizers.Adam(
            learning_rate=hp.learning_rate, epsilon=hp.adam_epsilon), decoder),
            held_out(retrained), hp.decoder_steps, StepClock(), "decoder-only step")
        encoder_moved = max(float(tf.reduce_max(tf.abs(retrained.weights[n] - tf_model.weights[n])))
                            for n in retrained.weights if n.startswith("encoder"))

        mean, logvar = tf_model.encode(test_x)
        results["tensorflow"] = dict(
            curve=curve, test_curve=test_curve, untrained=untrained, clock=clock, device=tf_dev,
            decoder_only=dict(before=before, curve=decoder_curve, encoder_moved=encoder_moved),
            logits=tf_model.decode(tf_model.sample_latent(mean, logvar, test_noise)).numpy(),
            reconstructions=tf_model.generate(mean[:10]).numpy(),
            samples=tf_model.generate(prior_codes).numpy(),
            mean=mean.numpy(), logvar=logvar.numpy(),
            decode=lambda codes: tf_model.generate(codes).numpy(),
        )

# %%
# Results
# -------
# Each twin's held-out loss after the last step against the page's target
# (lower is better), with the budget and the data that produced it.
run.record_all(results, lambda r: {METRIC: r["test_curve"][-1], UNTRAINED: r["test_curve"][-1] / r["untrained"]})
run.verdict()

# %%
# The loss is a bound on binarised images: checked
# ------------------------------------------------
# The held-out loss above uses the grey levels as targets. Draw one binary image
# :math:`b \sim \mathrm{Bernoulli}(x)` per test image and score the *same*
# decoder outputs against it: the two numbers should agree up to the noise of
# one draw, since the cross-entropy is linear in the target
# (:math:`\mathrm{BCE}(b, p) - \mathrm{BCE}(x, p) = \sum_i (x_i - b_i)\,\mathrm{logit}\,p_i`),
# whose expectation over the draw is zero. The line says whether the
# difference is within three standard errors of zero.
binary = (np.random.default_rng(3).random(test_images.shape) < test_images).astype(np.float32)
for name, r in results.items():
    difference = ((test_images - binary) * r["logits"]).sum(1)
    error = difference.std() / len(difference) ** 0.5
    print(f"{torchflow.frameworks.label(name)}: grey-level targets {r['test_curve'][-1]:.2f} nats, "
          f"binary draws {r['test_curve'][-1] + difference.mean():.2f} nats "
          f"(difference {difference.mean():+.2f} ± {error:.2f}: "
          f"{'within' if abs(difference.mean()) <= 3 * error else 'NOT within'} three standard errors of zero)")

# %%
# Loss curves
# -----------
# Training loss (averaged over the steps since the last evaluation) and the
# held-out loss (on the test set, with the shared noise) of both twins on one axis.
fig, ax = plt.subplots(figsize=(7, 4))
steps_at = {name: hp.eval_every * np.arange(1, len(r["curve"]) + 1) for name, r in results.items()}
for kind, style in (("curve", "-"), ("test_curve", "--")):
    label = "train" if kind == "curve" else "held-out"
    plot_curves({f"{name} {label}": r[kind] for name, r in results.items()}, ax=ax, xlabel="optimiser step",
                ylabel="negative ELBO (nats per image)", x={f"{n} {label}": s for n, s in steps_at.items()})
    for line in ax.lines[-len(results):]:
        line.set_linestyle(style)
ax.legend()
fig.tight_layout()

# %%
# Reconstructions
# ---------------
# Top row: test images. Below: each twin's reconstruction from the mean code
# :math:`\mu(x)`. A VAE's reconstructions are blurry: the decoder's output is the
# probability of each pixel, the average of the plausible images.
rows = [test_images[:10]] + [r["reconstructions"] for r in results.values()]
fig, ax = plt.subplots(figsize=(8, 1 + 0.9 * len(rows)))
show_grid(np.concatenate(rows).reshape(-1, 28, 28), ncols=10, ax=ax,
          row_labels=["test image"] + [f"{torchflow.frameworks.label(n)}" for n in results])
_ = ax.set_title("reconstructions")

# %%
# Samples from the prior
# ----------------------
# The same 64 codes :math:`z \sim \mathcal{N}(0, I)`, decoded by each twin.
# The twins started from different random weights, so the same code decodes to
# different images.
fig = side_by_side({name: r["samples"].reshape(-1, 28, 28) for name, r in results.items()}, ncols=8,
                   suptitle="decoded prior samples")

# %%
# A latent traversal
# ------------------
# Which directions of the 100-dimensional code does the model use? The KL term
# of one latent dimension is near zero when the encoder ignores it. We take the
# five dimensions with the largest average KL, start from the code of one test
# image, and move one dimension at a time from -3 to 3.
values = np.linspace(-3, 3, 9)
traversals = {}
for name, r in results.items():
    kl_per_dim = (-0.5 * (1 + r["logvar"] - r["mean"] ** 2 - np.exp(r["logvar"]))).mean(0)
    dims = np.argsort(kl_per_dim)[::-1][:5]
    print(f"{torchflow.frameworks.label(name)}: {int((kl_per_dim > 0.1).sum())} of {hp.latent_dim} latent "
          f"dimensions carry KL > 0.1 nats; most used: {dims.tolist()}")
    traversals[name] = r["decode"](latent_traversal(r["mean"][0], dims, values)).reshape(-1, 28, 28)
fig = side_by_side(traversals, ncols=len(values), suptitle="one latent dimension at a time, from -3 to 3")

# %%
# Why explicit weights: training a subset
# ---------------------------------------
# Each training section ended by training *only the decoder*: a second model,
# started from other random weights, received the trained encoder's weights,
# and its optimiser was handed the list of the decoder's weights alone (PyTorch:
# ``torch.optim.Adam(decoder)``; TensorFlow: the ``var_list`` given to
# ``tape.gradient`` and ``apply_gradients``). With explicit weights that list is
# one comprehension over the weight names; the next chapter's GANs rely on the
# same mechanism to update the generator and the discriminator in turn. In
# PyTorch ``backward`` still computes the encoder's gradients (its tensors
# require them); the optimiser never applies them. The encoder therefore must
# not move at all. The lines compare the decoder trained on top of the trained
# encoder with a whole model trained for the same number of steps from scratch,
# and with the whole model after all its steps:
for name, r in results.items():
    d = r["decoder_only"]
    whole = r["test_curve"][min(hp.decoder_steps // hp.eval_every, len(r["test_curve"])) - 1]
    print(f"{torchflow.frameworks.label(name)}: held-out {d['before']:.1f} nats with the random decoder, "
          f"{d['curve'][-1]:.1f} after {hp.decoder_steps} decoder-only steps (whole model after the same "
          f"number of steps from scratch: {whole:.1f}, so the trained encoder "
          f"{'helped' if d['curve'][-1] < whole else 'did not help'}; after all {hp.steps}: "
          f"{r['test_curve'][-1]:.1f}, {d['curve'][-1] - r['test_curve'][-1]:+.1f} nats from the decoder-only "
          f"model); largest change of an encoder weight: {d['encoder_moved']:g}")

# %%
# Comparison
# ----------
# The held-out loss of each twin (lower is better), and the time per training
# step. The models, the data, the batches and the optimiser settings are
# identical; the initial weights and the sampling noise differ.
for name, r in results.items():
    print(f"{torchflow.frameworks.label(name)}: {r['test_curve'][-1]:.1f} nats, "
          f"{1000 * r['clock'].seconds_per_step:.2f} ms per step")
if len(results) == 2:
    gap = abs(results["torch"]["test_curve"][-1] - results["tensorflow"]["test_curve"][-1])
    print(f"relative gap between the twins: {gap / results['torch']['test_curve'][-1]:.2%}")
record = run.finish()
