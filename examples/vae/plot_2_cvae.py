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

# sphinx_gallery_thumbnail_number = 2

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
# As on the previous page, the notes' "E[log P] + KL" lacks this minus sign, the
# data is Fashion-MNIST rather than MNIST (it ships offline), and the
# reconstruction term is the cross-entropy with logits against the grey levels:
# a bound in nats on stochastically binarised images, not a likelihood of the
# grey image (the previous page explains and checks it).
#
# The label enters as a one-hot vector :math:`e_y \in \{0, 1\}^{10}`,
# concatenated to the input of each map::
#
#     encoder: [x, e_y] (B, 784 + 10) -> (B, 128) -> mean, logvar (B, 100)
#     decoder: [z, e_y] (B, 100 + 10) -> (B, 128) -> logits (B, 784)
#
# To generate an image of class :math:`c`, draw :math:`z \sim \mathcal{N}(0, I)`
# and decode :math:`[z, e_c]`. To reconstruct an image given its label, encode
# :math:`[x, e_y]` and decode its mean code with :math:`e_y`; decoding the same
# code with another label should keep the style and change the class (scored below).
#
# Hyperparameters, declared once
# ------------------------------
# The learning rate, 3e-3, and the number of steps were chosen on validation
# data, never on the test images: two studies (``benchmarks/vae-cvae-lr.md``,
# not rerun by this build) trained both twins on 55,000 training images and
# scored them on the other 5,000 with prior codes this page does not use. The
# first kept the constant rate that gave the weaker twin the best judge
# accuracy at a bound close to each twin's best. The second, with the current
# judge, also tried a high rate decaying along a cosine, a KL weight warmed up
# from 0, weight averaging and more steps: none gave the weaker twin more than
# the twins differ from each other, and 20,000 steps instead of 12,000 helped
# both twins a little at temperature 1, at a slightly better bound. Adam's epsilon is set for both twins
# (Keras' default is 1e-7, PyTorch's 1e-8). Training is counted in optimiser
# steps, the same on the full data and on the embedded 6,000-image subset. The
# targets below were decided for the book (``benchmarks/vae-cpu.md`` has this
# page's measurements on both data sources).
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_images
from torchflow.judge import Judge
from torchflow.metrics import confusion_matrix
from torchflow.plot import plot_confusion, plot_curves, side_by_side
from torchflow.training import StepClock, batch_indices, batched_mean, fixed_normal

run = torchflow.Run()
hp = SimpleNamespace(
    input_dim=784,
    hidden_dim=128,
    latent_dim=100,
    num_classes=10,
    batch_size=100,
    learning_rate=3e-3,
    adam_epsilon=1e-8,
    steps=torchflow.scaled(smoke=60, cpu=20_000, full=48_000),
    eval_every=torchflow.scaled(smoke=30, cpu=2_000, full=3_000),
    train_size=torchflow.scaled(smoke=2_000, cpu=None, full=None),
    test_size=torchflow.scaled(smoke=500, cpu=None, full=None),
    samples_per_class=100,
    temperatures=(1.0, 0.7),  # scale of the prior codes: 1 is the model's own prior
    seed=0,
)
ACCURACY = {t: f"judge accuracy, temperature {t}" for t in hp.temperatures}
run.expect(ACCURACY[1.0], at_least=torchflow.scaled(smoke=None, cpu=0.70, full=0.80))
run.expect(ACCURACY[0.7], at_least=torchflow.scaled(smoke=None, cpu=0.80, full=0.80))
# smoke: training took the held-out loss well below the untrained model's (a step that does not learn: 1)
UNTRAINED = "held-out negative ELBO, fraction of the untrained model's"
run.expect(UNTRAINED, at_most=torchflow.scaled(smoke=0.8, cpu=None, full=None))
hp

# %%
# The dimension flow, traced from both twins: the one-hot label widens the
# input of each map by ten.
from torchflow.flow import draw_flows, trace_twins

flows = trace_twins("vae", "CVAE", np.zeros((2, hp.input_dim), np.float32), np.zeros(2, np.int64),
                    frameworks=torchflow.available_frameworks(),
                    model_kwargs=dict(input_dim=hp.input_dim, hidden_dim=hp.hidden_dim,
                                      latent_dim=hp.latent_dim, num_classes=hp.num_classes))
fig = draw_flows(flows, title="CVAE: the label joins the encoder's and the decoder's input")

# %%
# Data and the judge
# ------------------
# The judge is a small CNN (:class:`~torchflow.pt.judge.JudgeNet`) trained once
# on the same training set and cached; the same network scores both twins.
train = load_images("fashion-mnist", "train").take(hp.train_size)
test = load_images("fashion-mnist", "test").take(hp.test_size)
run.use_data(train, test)
judge = Judge.load("fashion-mnist")
print(f"judge: test accuracy {judge.test_accuracy:.1%}; trained on {judge.trained_on}")
classes, train_labels, test_labels = train.classes, train.labels, test.labels
train_images, test_images = ((split.images.reshape(-1, 784) / 255.0).astype(np.float32) for split in (train, test))

# %%
# What we will ask for: ``samples_per_class`` images of every class, from
# codes that both twins share. Column :math:`j` of the grid below uses the same
# code :math:`z_j` in every row, so a column shows one "style" across classes.
# ``train`` is the loop both twins share: the same batches (indices from
# :func:`~torchflow.training.batch_indices`), and every ``eval_every`` steps the
# held-out loss and how often the judge sees the requested class.
requested = np.repeat(np.arange(hp.num_classes), hp.samples_per_class)
codes = np.tile(fixed_normal((hp.samples_per_class, hp.latent_dim), seed=2), (hp.num_classes, 1))
eval_noise = fixed_normal((len(test_images), hp.latent_dim), seed=1)
results = {}


def train(train_step, held_out_loss, decode, clock):
    """``hp.steps`` optimiser steps; returns the curves, evaluated every ``hp.eval_every`` steps."""
    curves, losses = dict(steps=[], curve=[], test_curve=[], accuracy_curve=[]), []
    for step, index in enumerate(batch_indices(len(train_images), hp.batch_size, hp.steps, hp.seed), 1):
        with clock:
            losses.append(train_step(index))
        if step % hp.eval_every and step != hp.steps:
            continue
        for key, value in zip(curves, (step, np.mean(losses), held_out_loss(),
                                       judge.label_accuracy(decode(codes, requested), requested))):
            curves[key].append(value)
        losses = []
        print(f"step {step}: train {curves['curve'][-1]:.1f}, held-out {curves['test_curve'][-1]:.1f} nats, "
              f"{curves['accuracy_curve'][-1]:.1%} judged as requested (temperature 1)")
    return curves


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
# The step is the VAE's, with the labels sliced by the same indices, and the
# same two CPU settings (a fused Adam, subnormals flushed to zero; the previous
# page explains them).
if run.trains("torch"):
    import torch

    from torchflow.device import torch_device
    from torchflow.pt.vae import CVAE

    torch.manual_seed(hp.seed)
    torch.set_flush_denormal(True)
    torch_dev = torch_device()
    train_x, train_y, test_x, test_y, test_noise = (torch.as_tensor(a, device=torch_dev) for a in (
        train_images, train_labels, test_images, test_labels, eval_noise))
    torch_model = CVAE(hp.input_dim, hp.hidden_dim, hp.latent_dim, hp.num_classes, seed=hp.seed).to(torch_dev)
    torch_optimizer = torch.optim.Adam(torch_model.parameters(), lr=hp.learning_rate, eps=hp.adam_epsilon,
                                       fused=True)

    def train_step(index):
        loss, reconstruction, kl = torch_model.loss(train_x[index], train_y[index])
        torch_optimizer.zero_grad()
        loss.backward()
        torch_optimizer.step()
        return loss.item()

    @torch.no_grad()
    def held_out_loss():
        return batched_mean(lambda *batch: torch_model.loss(*batch)[0].item(), test_x, test_y, test_noise)

    @torch.no_grad()
    def decode(latent, labels):
        latent, labels = torch.as_tensor(latent, device=torch_dev), torch.as_tensor(labels, device=torch_dev)
        return torch_model.generate(latent, labels).cpu().numpy()

    clock = StepClock()
    untrained = held_out_loss()  # before any step
    curves = train(train_step, held_out_loss, decode, clock)
    with torch.no_grad():
        test_codes = torch_model.encode(test_x, test_y)[0].cpu().numpy()
    results["torch"] = dict(curves, untrained=untrained, clock=clock, device=str(torch_dev), decode=decode,
                            test_codes=test_codes)

# %%
# Training the TensorFlow twin
# ----------------------------
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.device import tf_device
    from torchflow.tf.vae import CVAE

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()
    with tf.device(tf_dev):
        train_x, train_y, test_x, test_y, test_noise = (tf.constant(a) for a in (
            train_images, train_labels, test_images, test_labels, eval_noise))
        tf_model = CVAE(hp.input_dim, hp.hidden_dim, hp.latent_dim, hp.num_classes, seed=hp.seed)
    tf_optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate, epsilon=hp.adam_epsilon)

    @tf.function(jit_compile=True)  # one XLA program, as on the previous page
    def graph_step(index):
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = tf_model.loss(tf.gather(train_x, index), tf.gather(train_y, index))
        gradients = tape.gradient(loss, tf_model.parameters())
        tf_optimizer.apply_gradients(zip(gradients, tf_model.parameters()))
        return loss

    def train_step(index):
        return float(graph_step(index))

    graph_loss = tf.function(lambda *batch: tf_model.loss(*batch)[0])

    def held_out_loss():
        return batched_mean(graph_loss, test_x, test_y, test_noise)

    def decode(latent, labels):
        return tf_model.generate(latent, labels).numpy()

    clock = StepClock()
    with tf.device(tf_dev):
        untrained = held_out_loss()  # before any step
        curves = train(train_step, held_out_loss, decode, clock)
        test_codes = tf_model.encode(test_x, test_y)[0].numpy()
    results["tensorflow"] = dict(curves, untrained=untrained, clock=clock, device=tf_dev, decode=decode,
                                 test_codes=test_codes)

# %%
# Results
# -------
# We score the samples twice: with codes drawn from the prior itself
# (temperature 1) and with codes shrunk towards the origin (temperature 0.7,
# :math:`z \sim \mathcal{N}(0, 0.7^2 I)`), a common way of trading variety for
# typicality. For scale, the judge's accuracy on real test images is printed
# too; it is not a ceiling for the samples, which can be more typical than real
# photographs. The box below compares each twin with the targets declared at
# the top of the page. The targets were decided with an earlier judge; how much
# the judge's training recipe moves these scores is measured in
# ``benchmarks/vae-cvae-lr.md``.
for name, r in results.items():
    r["samples"] = {t: r["decode"](codes * t, requested) for t in hp.temperatures}
    r["accuracy"] = {t: judge.label_accuracy(r["samples"][t], requested) for t in hp.temperatures}
    print(f"{torchflow.frameworks.label(name)}: " + ", ".join(
        f"{r['accuracy'][t]:.1%} judged as requested at temperature {t}" for t in hp.temperatures))
run.record_all(results, lambda r: {"held-out negative ELBO (nats, binarised pixels)": r["test_curve"][-1],
                                   UNTRAINED: r["test_curve"][-1] / r["untrained"],
                                   **{ACCURACY[t]: r["accuracy"][t] for t in hp.temperatures}})
run.verdict()

# %%
# One row per requested label
# ---------------------------
# Ten codes (columns), decoded with each of the ten labels (rows), temperature 1.
first_ten = (np.arange(hp.num_classes)[:, None] * hp.samples_per_class + np.arange(10)).ravel()
fig = side_by_side({name: r["samples"][1.0][first_ten].reshape(-1, 28, 28) for name, r in results.items()},
                   ncols=10, row_labels=list(classes), suptitle="samples of each requested class")

# %%
# Which classes does the judge see instead?
# -----------------------------------------
# Left: the judge's confusion matrix on the real test images (true class against
# its prediction). Then, for each twin, the requested class of the samples at
# temperature 1 against the judge's prediction. The lines below list the most
# frequent confusions of each and how many of a twin's five most frequent are
# also among the judge's five most frequent on real images.
real = confusion_matrix(test_labels, judge.predict(test_images), hp.num_classes)
matrices = {"real test images": real}
matrices.update({f"{torchflow.frameworks.label(name)} samples": confusion_matrix(
    requested, judge.predict(r["samples"][1.0]), hp.num_classes) for name, r in results.items()})
fig, axes = plt.subplots(1, len(matrices), figsize=(4.6 * len(matrices), 4.8), squeeze=False)
for ax, (title, matrix) in zip(axes[0], matrices.items()):
    plot_confusion(matrix, classes, ax=ax, title=f"{title}: {np.trace(matrix) / matrix.sum():.1%}")
fig.tight_layout()


def top_confusions(matrix, count=5):
    rates = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    np.fill_diagonal(rates, 0)
    order = np.argsort(rates, axis=None)[::-1][:count]
    return [(int(i), int(j), rates[i, j]) for i, j in zip(*np.unravel_index(order, rates.shape))]


real_top = {(i, j) for i, j, _ in top_confusions(real)}
for title, matrix in matrices.items():
    top = top_confusions(matrix)
    shared = "" if matrix is real else f" ({sum((i, j) in real_top for i, j, _ in top)} of 5 shared with real images)"
    print(f"{title}: " + "; ".join(f"{classes[i]} → {classes[j]} {rate:.0%}" for i, j, rate in top) + shared)

# %%
# Conditional reconstruction: x given y
# -------------------------------------
# The CVAE can also take an image *and* its label: the encoder maps
# :math:`[x, e_y]` to a code, and the decoder turns the code back into an image
# of class :math:`y`. Top row: one test image of each class; below, its mean code
# decoded with each of the ten labels. The diagonal is the reconstruction given
# the true label; off the diagonal the decoder is asked for another class from
# the same code. The lines below score both with the judge, on every test image.
picked = np.array([np.flatnonzero(test_labels == c)[0] for c in range(hp.num_classes)])
swapped = (test_labels + 1) % hp.num_classes  # every test image decoded as the next class
grids = {}
for name, r in results.items():
    rows = r["decode"](np.repeat(r["test_codes"][picked][None], hp.num_classes, 0).reshape(-1, hp.latent_dim),
                       np.repeat(np.arange(hp.num_classes), hp.num_classes))
    grids[name] = np.concatenate([test_images[picked], rows]).reshape(-1, 28, 28)
    given_true = judge.label_accuracy(r["decode"](r["test_codes"], test_labels), test_labels)
    given_next = judge.label_accuracy(r["decode"](r["test_codes"], swapped), swapped)
    print(f"{torchflow.frameworks.label(name)}: reconstructions given the true label judged as that label: "
          f"{given_true:.1%}; the same codes decoded with the next label judged as the new label: {given_next:.1%}")
fig = side_by_side(grids, ncols=hp.num_classes, row_labels=["test image", *classes],
                   suptitle="each test image's code decoded with every label")

# %%
# Curves and comparison
# ---------------------
# The held-out loss and the judge's accuracy at temperature 1 along training.
fig, (ax_loss, ax_accuracy) = plt.subplots(1, 2, figsize=(11, 4))
steps_at = {name: r["steps"] for name, r in results.items()}
plot_curves({name: r["test_curve"] for name, r in results.items()}, ax=ax_loss, x=steps_at,
            xlabel="optimiser step", ylabel="held-out negative ELBO (nats per image)")
plot_curves({name: r["accuracy_curve"] for name, r in results.items()}, ax=ax_accuracy, x=steps_at,
            xlabel="optimiser step", ylabel="judged as requested, temperature 1")
fig.tight_layout()

for name, r in results.items():
    print(f"{torchflow.frameworks.label(name)}: held-out {r['test_curve'][-1]:.1f} nats, "
          f"{1000 * r['clock'].seconds_per_step:.2f} ms per step")
record = run.finish()
