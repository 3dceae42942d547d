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
matrix product, so nothing is hidden in a layer class.
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
# Dimension flow, with the batch size :math:`B`::
#
#     x (B, 784) -> relu(x W1 + b1) (B, 128) -> mean (B, 100), logvar (B, 100)
#     z = mean + exp(logvar / 2) * noise                               (B, 100)
#     z (B, 100) -> relu(z W4 + b4) (B, 128) -> logits (B, 784) -> sigmoid -> image
#
# Hyperparameters, declared once
# ------------------------------
# Both twins read the same settings. The budget switch (``TORCHFLOW_BUDGET``:
# ``smoke``, ``cpu`` or ``full``) scales how much data and how many epochs.
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_images
from torchflow.plot import plot_curves, show_grid, side_by_side
from torchflow.training import StepClock, batched_mean, fixed_normal, latent_traversal

run = torchflow.Run("vae")
frameworks = torchflow.available_frameworks()  # the twins that can run here
hp = SimpleNamespace(
    input_dim=784,
    hidden_dim=128,
    latent_dim=100,
    batch_size=100,
    learning_rate=1e-3,
    epochs=torchflow.scaled(smoke=1, cpu=15, full=50),
    train_size=torchflow.scaled(smoke=2_000, cpu=None, full=None),  # None: all of it
    test_size=torchflow.scaled(smoke=500, cpu=None, full=None),
    seed=0,
)
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

flows = trace_twins("vae", "VAE", np.zeros((2, hp.input_dim), np.float32), frameworks=frameworks,
                    model_kwargs=dict(input_dim=hp.input_dim, hidden_dim=hp.hidden_dim, latent_dim=hp.latent_dim))
fig = draw_flows(flows, title="VAE: encoder, reparameterised sample, decoder")

# %%
# Data
# ----
# Fashion-MNIST: 28×28 grey-scale photos of clothes in ten classes. The loader
# returns NumPy arrays and a record of where the data came from (the full set
# from a package or a download, or the small real subset that ships with
# TorchFlow when neither is reachable). Pixels are scaled to [0, 1] and
# flattened, since the Bernoulli decoder models each pixel's intensity.
train = load_images("fashion-mnist", "train").take(hp.train_size)
test = load_images("fashion-mnist", "test").take(hp.test_size)
run.use_data(train.describe())
run.use_data(test.describe())
train_images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
test_images = (test.images.reshape(-1, 784) / 255.0).astype(np.float32)
print(train.describe())
print(f"train {train_images.shape}, test {test_images.shape}")

# %%
# Both twins are evaluated with the *same* noise :math:`\varepsilon` for the
# held-out ELBO, decode the *same* prior samples, and traverse the *same* codes,
# so that any difference on this page comes from training, not from luck.
eval_noise = fixed_normal((len(test_images), hp.latent_dim), seed=1)
prior_codes = fixed_normal((64, hp.latent_dim), seed=2)
shown = test_images[:10]
results = {}

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
# The optimiser receives the explicit list of weights, ``model.parameters()``.
# One step: forward pass and loss, ``zero_grad``, ``backward``, ``step``.
if "torch" in frameworks:
    import torch

    from torchflow.data.wrappers import torch_loader
    from torchflow.device import torch_device
    from torchflow.pt.vae import VAE

    torch.manual_seed(hp.seed)
    torch_dev = torch_device()
    torch_model = VAE(hp.input_dim, hp.hidden_dim, hp.latent_dim, seed=hp.seed).to(torch_dev)
    torch_optimizer = torch.optim.Adam(torch_model.parameters(), lr=hp.learning_rate)
    loader = torch_loader(train_images, batch_size=hp.batch_size, seed=hp.seed, drop_last=True)

    def train_step(images):
        loss, reconstruction, kl = torch_model.loss(images)
        torch_optimizer.zero_grad()
        loss.backward()
        torch_optimizer.step()
        return loss.item()

    @torch.no_grad()
    def held_out_loss(images, noise):
        images, noise = (torch.as_tensor(a, device=torch_dev) for a in (images, noise))
        loss, _, _ = torch_model.loss(images, noise=noise)
        return loss.item()

    clock, curve, test_curve = StepClock(), [], []
    for epoch in range(hp.epochs):
        epoch_losses = []
        for (images,) in loader:
            with clock:
                epoch_losses.append(train_step(images.to(torch_dev)))
        curve.append(np.mean(epoch_losses))
        test_curve.append(batched_mean(held_out_loss, test_images, eval_noise))
        print(f"epoch {epoch + 1}: train {curve[-1]:.1f}, held-out {test_curve[-1]:.1f} nats")

    with torch.no_grad():
        mean, logvar = torch_model.encode(torch.as_tensor(test_images, device=torch_dev))
        results["torch"] = dict(
            curve=curve, test_curve=test_curve, clock=clock, device=str(torch_dev),
            reconstructions=torch_model.generate(mean[:10]).cpu().numpy(),
            samples=torch_model.generate(torch.as_tensor(prior_codes, device=torch_dev)).cpu().numpy(),
            mean=mean.cpu().numpy(), logvar=logvar.cpu().numpy(),
            decode=lambda codes: torch_model.generate(torch.as_tensor(codes, device=torch_dev)).detach().cpu().numpy(),
        )
else:
    print(torchflow.skip_note("torch"))
    run.skip("torch")

# %%
# Training the TensorFlow twin
# ----------------------------
# The same step in TensorFlow: the forward pass runs under a ``GradientTape``,
# and the gradients of the explicit ``var_list`` are applied.
# ``@tf.function`` compiles the step into a graph (the first call traces it).
if "tensorflow" in frameworks:
    import keras
    import tensorflow as tf

    from torchflow.data.wrappers import tf_dataset
    from torchflow.device import tf_device
    from torchflow.tf.vae import VAE

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()
    with tf.device(tf_dev):
        tf_model = VAE(hp.input_dim, hp.hidden_dim, hp.latent_dim, seed=hp.seed)
    tf_optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate)

    @tf.function
    def train_step(images):
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = tf_model.loss(images)
        gradients = tape.gradient(loss, tf_model.parameters())
        tf_optimizer.apply_gradients(zip(gradients, tf_model.parameters()))
        return loss

    @tf.function
    def held_out_loss(images, noise):
        loss, _, _ = tf_model.loss(images, noise=noise)
        return loss

    clock, curve, test_curve = StepClock(), [], []
    with tf.device(tf_dev):
        for epoch in range(hp.epochs):
            epoch_losses = []
            for images in tf_dataset(train_images, batch_size=hp.batch_size, seed=hp.seed,
                                     epoch=epoch, drop_last=True):
                with clock:
                    epoch_losses.append(float(train_step(images)))
            curve.append(np.mean(epoch_losses))
            test_curve.append(batched_mean(held_out_loss, test_images, eval_noise))
            print(f"epoch {epoch + 1}: train {curve[-1]:.1f}, held-out {test_curve[-1]:.1f} nats")

        mean, logvar = tf_model.encode(test_images)
        results["tensorflow"] = dict(
            curve=curve, test_curve=test_curve, clock=clock, device=tf_dev,
            reconstructions=tf_model.generate(mean[:10]).numpy(),
            samples=tf_model.generate(prior_codes).numpy(),
            mean=mean.numpy(), logvar=logvar.numpy(),
            decode=lambda codes: tf_model.generate(codes).numpy(),
        )
else:
    print(torchflow.skip_note("tensorflow"))
    run.skip("tensorflow")

# %%
# Loss curves
# -----------
# Training loss (per epoch, averaged over its steps) and the held-out negative
# ELBO (on the test set, with the shared noise) of both twins on one axis.
fig, ax = plt.subplots(figsize=(7, 4))
plot_curves({f"{name} train": r["curve"] for name, r in results.items()}, ax=ax,
            ylabel="negative ELBO (nats per image)")
plot_curves({f"{name} held-out": r["test_curve"] for name, r in results.items()}, ax=ax,
            ylabel="negative ELBO (nats per image)")
for line in ax.lines[len(results):]:
    line.set_linestyle("--")
ax.legend()
fig.tight_layout()

# %%
# Reconstructions
# ---------------
# Top row: test images. Below: each twin's reconstruction from the mean code
# :math:`\mu(x)`. A VAE's reconstructions are blurry: the Bernoulli likelihood
# rewards the average of the plausible images.
rows = [shown] + [r["reconstructions"] for r in results.values()]
fig, ax = plt.subplots(figsize=(8, 1 + 0.9 * len(rows)))
show_grid(np.concatenate(rows).reshape(-1, 28, 28), ncols=10, ax=ax,
          row_labels=["test image"] + [f"{torchflow.frameworks.label(n)}" for n in results])
ax.set_title("reconstructions")

# %%
# Samples from the prior
# ----------------------
# The same 64 codes :math:`z \sim \mathcal{N}(0, I)`, decoded by each twin.
# The twins started from different random weights, so the same code decodes to
# different images, of the same quality.
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
    print(f"{name}: {int((kl_per_dim > 0.1).sum())} of {hp.latent_dim} latent dimensions carry "
          f"KL > 0.1 nats; most used: {dims.tolist()}")
    traversals[name] = r["decode"](latent_traversal(r["mean"][0], dims, values)).reshape(-1, 28, 28)
fig = side_by_side(traversals, ncols=len(values), suptitle="one latent dimension at a time, from -3 to 3")

# %%
# Comparison
# ----------
# The held-out negative ELBO (lower is better), the time per training step and
# the memory of each twin. The two numbers should agree within a few per cent:
# the models and the data are identical, the initial weights and the random
# noise differ.
for name, r in results.items():
    run.record(name, {"held-out negative ELBO (nats)": r["test_curve"][-1]},
               seconds_per_step=r["clock"].seconds_per_step, train_seconds=r["clock"].total_seconds,
               device=r["device"])
if len(results) == 2:
    gap = abs(results["torch"]["test_curve"][-1] - results["tensorflow"]["test_curve"][-1])
    print(f"relative gap between the twins: {gap / results['torch']['test_curve'][-1]:.2%}")
record = run.finish()
