"""
Conditional VAE
===============

A plain VAE generates *some* image; we cannot ask it for a sneaker. The
conditional VAE (Sohn, Lee & Yan, 2015) gives the label :math:`y` to both maps,
the encoder :math:`q_\\phi(z \\mid x, y)` and the decoder :math:`p_\\theta(x \\mid z, y)`.
The code :math:`z` then no longer needs to store *what* the image shows, only
*how* it looks (its style), and at generation time we choose the label.

We train the PyTorch twin and the TensorFlow twin on Fashion-MNIST, ask each for
every class, and let an independent judge, a small CNN classifier trained once
on the same data, tell how often it sees the class we asked for.
"""

# sphinx_gallery_thumbnail_number = 3

# %%
# The conditional ELBO
# --------------------
# The loss is the VAE's negative ELBO with the label as an extra input
# everywhere; the prior of :math:`z` stays :math:`\mathcal{N}(0, I)`:
#
# .. math::
#
#    \mathcal{L}(x, y) = -\,\mathbb{E}_{q_\phi(z\mid x, y)}\big[\log p_\theta(x \mid z, y)\big]
#    + \mathrm{KL}\big(q_\phi(z \mid x, y)\,\|\,\mathcal{N}(0, I)\big).
#
# The label enters as a one-hot vector :math:`e_y \in \{0, 1\}^{10}`,
# concatenated to the input of each map::
#
#     encoder: [x, e_y] (B, 784 + 10) -> (B, 128) -> mean, logvar (B, 100)
#     decoder: [z, e_y] (B, 100 + 10) -> (B, 128) -> logits (B, 784)
#
# To generate an image of class :math:`c`, draw :math:`z \sim \mathcal{N}(0, I)`
# and decode :math:`[z, e_c]`.
#
# Hyperparameters, declared once
# ------------------------------
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_images
from torchflow.judge import Judge
from torchflow.plot import plot_curves, side_by_side
from torchflow.training import StepClock, batched_mean, fixed_normal

run = torchflow.Run("cvae")
frameworks = torchflow.available_frameworks()
hp = SimpleNamespace(
    input_dim=784,
    hidden_dim=128,
    latent_dim=100,
    num_classes=10,
    batch_size=100,
    learning_rate=1e-3,
    epochs=torchflow.scaled(smoke=1, cpu=20, full=80),
    train_size=torchflow.scaled(smoke=2_000, cpu=None, full=None),
    test_size=torchflow.scaled(smoke=500, cpu=None, full=None),
    samples_per_class=100,
    temperatures=(1.0, 0.7),  # scale of the prior codes: 1 is the model's own prior
    seed=0,
)
hp

# %%
# The dimension flow, traced from both twins: the one-hot label widens the
# input of each map by ten.
from torchflow.flow import draw_flows, trace_twins

flows = trace_twins("vae", "CVAE", np.zeros((2, hp.input_dim), np.float32), np.zeros(2, np.int64),
                    frameworks=frameworks, model_kwargs=dict(input_dim=hp.input_dim, hidden_dim=hp.hidden_dim,
                                                             latent_dim=hp.latent_dim, num_classes=hp.num_classes))
fig = draw_flows(flows, title="CVAE: the label joins the encoder's and the decoder's input")

# %%
# Data
# ----
train = load_images("fashion-mnist", "train").take(hp.train_size)
test = load_images("fashion-mnist", "test").take(hp.test_size)
for split in (train, test):
    run.use_data(split.describe())
    print(split.describe())
train_images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
test_images = (test.images.reshape(-1, 784) / 255.0).astype(np.float32)
train_labels, test_labels = train.labels, test.labels
classes = train.classes

# %%
# What we will ask for: ``samples_per_class`` images of every class, from
# codes that both twins share. Column :math:`j` of the grid below uses the same
# code :math:`z_j` in every row, so a column shows one "style" across classes.
requested = np.repeat(np.arange(hp.num_classes), hp.samples_per_class)
codes = fixed_normal((hp.samples_per_class, hp.latent_dim), seed=2)
request_codes = np.concatenate([np.tile(codes, (hp.num_classes, 1)) * t for t in hp.temperatures])
requested_all = np.tile(requested, len(hp.temperatures))
eval_noise = fixed_normal((len(test_images), hp.latent_dim), seed=1)
results = {}

# %%
# The model
# ---------
# :class:`~torchflow.pt.vae.CVAE` is the VAE of the previous page with
# ``num_classes=10``: only the first weight matrix of each map grows by ten rows,
# and :meth:`~torchflow.pt.vae.VAE.condition` appends the one-hot label.
#
# .. tab-set::
#
#    .. tab-item:: PyTorch
#
#       .. literalinclude:: /../torchflow/pt/vae.py
#          :language: python
#          :pyobject: VAE.condition
#
#    .. tab-item:: TensorFlow
#
#       .. literalinclude:: /../torchflow/tf/vae.py
#          :language: python
#          :pyobject: VAE.condition
#
# Training the PyTorch twin
# -------------------------
# The step is the VAE's, with the labels passed along.
if "torch" in frameworks:
    import torch

    from torchflow.data.wrappers import torch_loader
    from torchflow.device import torch_device
    from torchflow.pt.vae import CVAE

    torch.manual_seed(hp.seed)
    torch_dev = torch_device()
    torch_model = CVAE(hp.input_dim, hp.hidden_dim, hp.latent_dim, hp.num_classes, seed=hp.seed).to(torch_dev)
    torch_optimizer = torch.optim.Adam(torch_model.parameters(), lr=hp.learning_rate)
    loader = torch_loader(train_images, train_labels, batch_size=hp.batch_size, seed=hp.seed, drop_last=True)

    def train_step(images, labels):
        loss, reconstruction, kl = torch_model.loss(images, labels)
        torch_optimizer.zero_grad()
        loss.backward()
        torch_optimizer.step()
        return loss.item()

    @torch.no_grad()
    def held_out_loss(images, labels, noise):
        images, labels, noise = (torch.as_tensor(a, device=torch_dev) for a in (images, labels, noise))
        return torch_model.loss(images, labels, noise)[0].item()

    clock, curve, test_curve = StepClock(), [], []
    for epoch in range(hp.epochs):
        epoch_losses = []
        for images, labels in loader:
            with clock:
                epoch_losses.append(train_step(images.to(torch_dev), labels.to(torch_dev)))
        curve.append(np.mean(epoch_losses))
        test_curve.append(batched_mean(held_out_loss, test_images, test_labels, eval_noise))
        print(f"epoch {epoch + 1}: train {curve[-1]:.1f}, held-out {test_curve[-1]:.1f} nats")

    with torch.no_grad():
        samples = torch_model.generate(torch.as_tensor(request_codes, device=torch_dev),
                                       torch.as_tensor(requested_all, device=torch_dev))
    results["torch"] = dict(curve=curve, test_curve=test_curve, clock=clock, device=str(torch_dev),
                            samples=samples.cpu().numpy().reshape(len(hp.temperatures), len(requested), 784))
else:
    print(torchflow.skip_note("torch"))
    run.skip("torch")

# %%
# Training the TensorFlow twin
# ----------------------------
if "tensorflow" in frameworks:
    import keras
    import tensorflow as tf

    from torchflow.data.wrappers import tf_dataset
    from torchflow.device import tf_device
    from torchflow.tf.vae import CVAE

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()
    with tf.device(tf_dev):
        tf_model = CVAE(hp.input_dim, hp.hidden_dim, hp.latent_dim, hp.num_classes, seed=hp.seed)
    tf_optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate)

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = tf_model.loss(images, labels)
        gradients = tape.gradient(loss, tf_model.parameters())
        tf_optimizer.apply_gradients(zip(gradients, tf_model.parameters()))
        return loss

    @tf.function
    def held_out_loss(images, labels, noise):
        return tf_model.loss(images, labels, noise)[0]

    clock, curve, test_curve = StepClock(), [], []
    with tf.device(tf_dev):
        for epoch in range(hp.epochs):
            epoch_losses = []
            for images, labels in tf_dataset(train_images, train_labels, batch_size=hp.batch_size,
                                             seed=hp.seed, epoch=epoch, drop_last=True):
                with clock:
                    epoch_losses.append(float(train_step(images, labels)))
            curve.append(np.mean(epoch_losses))
            test_curve.append(batched_mean(held_out_loss, test_images, test_labels, eval_noise))
            print(f"epoch {epoch + 1}: train {curve[-1]:.1f}, held-out {test_curve[-1]:.1f} nats")

        samples = tf_model.generate(request_codes, requested_all)
    results["tensorflow"] = dict(curve=curve, test_curve=test_curve, clock=clock, device=tf_dev,
                                 samples=samples.numpy().reshape(len(hp.temperatures), len(requested), 784))
else:
    print(torchflow.skip_note("tensorflow"))
    run.skip("tensorflow")

# %%
# One row per requested label
# ---------------------------
# Ten codes (columns), decoded with each of the ten labels (rows). Within a
# column the style (thickness, contrast, pose) stays and the class changes.
first_ten = np.concatenate([np.arange(c * hp.samples_per_class, c * hp.samples_per_class + 10)
                            for c in range(hp.num_classes)])
fig = side_by_side({name: r["samples"][0, first_ten].reshape(-1, 28, 28) for name, r in results.items()},
                   ncols=10, row_labels=list(classes), suptitle="samples of each requested class")

# %%
# Does each sample show the class we asked for?
# ---------------------------------------------
# The judge is a small CNN (:class:`~torchflow.pt.judge.JudgeNet`)
# trained once on the Fashion-MNIST training set and cached; it is the same
# network for both twins. Its own test accuracy bounds what a perfect generator
# could score.
#
# We score the samples twice: with codes drawn from the prior itself
# (temperature 1) and with codes shrunk towards the origin (temperature 0.7,
# :math:`z \sim \mathcal{N}(0, 0.7^2 I)`), a common way of trading variety for
# typicality. Blurry, in-between samples (a coat that could be a pullover, an
# open sandal that could be a sneaker) are what costs accuracy at temperature 1;
# the per-class bars show where: sandals taken for sneakers or ankle boots,
# coats and shirts taken for pullovers, the pairs the judge also confuses most
# on real images.
#
# The book aims at 80 % at temperature 1. With this small model that takes
# long training: measured with the PyTorch twin (``benchmarks/cvae_epochs.py``),
# 59 % after 10 epochs, 71 % after 20, 75 % after 30, 79 % after 60 and 81 %
# after 80, where it levels off. The ``cpu`` budget trains 20 epochs to stay
# within three minutes for both twins on two cores, so it falls short at
# temperature 1 and reaches about 80 % at temperature 0.7; the ``full`` budget
# trains 80 epochs. The lines below say what this build reached.
judge = Judge.load("fashion-mnist")
print(f"judge: test accuracy {judge.test_accuracy:.1%}; trained on {judge.trained_on}")
accuracy = {(name, t): judge.label_accuracy(r["samples"][i], requested)
            for name, r in results.items() for i, t in enumerate(hp.temperatures)}
for (name, t), value in accuracy.items():
    verdict = f" ({'reaches' if value >= 0.8 else 'misses'} the 80% target)" if t == 1.0 else ""
    print(f"{torchflow.frameworks.label(name)}, temperature {t}: {value:.1%} judged as requested{verdict}")
per_class = {name: [(judge.predict(r["samples"][0][requested == c]) == c).mean() for c in range(hp.num_classes)]
             for name, r in results.items()}
fig, ax = plt.subplots(figsize=(8, 3.5))
width = 0.8 / max(len(results), 1)
for offset, (name, values) in enumerate(per_class.items()):
    ax.bar(np.arange(hp.num_classes) + offset * width, values, width,
           label=f"{torchflow.frameworks.label(name)} (mean {accuracy[name, 1.0]:.1%})",
           color=torchflow.plot.FRAMEWORK_COLOURS[name])
ax.set_xticks(np.arange(hp.num_classes) + width * (len(results) - 1) / 2, classes, rotation=30)
ax.set_ylabel("judged as requested")
ax.set_title("temperature 1: the share of samples the judge sees as the requested class")
ax.set_ylim(0, 1)
ax.legend(loc="lower left")
fig.tight_layout()

# %%
# Loss curves and comparison
# --------------------------
fig, ax = plt.subplots(figsize=(7, 4))
plot_curves({f"{name} held-out": r["test_curve"] for name, r in results.items()}, ax=ax,
            ylabel="held-out negative ELBO (nats per image)")
fig.tight_layout()

for name, r in results.items():
    run.record(name, {"held-out negative ELBO (nats)": r["test_curve"][-1],
                      **{f"judge accuracy, temperature {t}": accuracy[name, t] for t in hp.temperatures}},
               seconds_per_step=r["clock"].seconds_per_step, train_seconds=r["clock"].total_seconds,
               device=r["device"])
record = run.finish()
