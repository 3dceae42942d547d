"""
Spatial transformer networks
============================

A convolutional network recognises a pattern wherever it sits, up to a few
pixels, but not when it is turned or resized: convolution and pooling give
some invariance to translation, and none to rotation or scale. A *spatial
transformer* (Jaderberg et al., 2015) is a small module, put in front of any
network, that learns to undo such distortions: it looks at the image, chooses
an affine map, and resamples the image through it, all differentiably, so that
it learns from the classification loss alone, without ever being told the
right transformation.

This page follows the PyTorch spatial-transformer tutorial: it trains the same
classifier with and without a spatial transformer on randomly rotated, scaled
and shifted images, in PyTorch and in TensorFlow 2, so that the benefit is
measured rather than claimed. The classifier without the transformer, and a
logistic regression on the distorted pixels, are the baselines of the verdict.
The last twelfth of the training images is a validation split, distorted the
same way; the test images are used once, after training.

Departures from the tutorial:

* the images are distorted by random affine maps (the tutorial uses plain MNIST);
* Fashion-MNIST stands in where MNIST is not available offline;
* Adam at 1e-3 instead of plain SGD at 0.01 (the page does not compare optimisers);
* 1,250 steps of 64 in the ``cpu`` budget, not twenty epochs (about 19,000 steps).
"""

# %%
# Localisation, grid, sampler
# ---------------------------
# The **localisation network** (two conv + pool stages, two dense layers)
# regresses six numbers :math:`\theta` per image. Its last layer starts with
# zero weights and the bias :math:`(1, 0, 0, 0, 1, 0)`, so training starts from
# the identity map. The **grid generator** takes the centre of every output
# pixel in normalised coordinates :math:`(x^t_i, y^t_i) \in [-1, 1]^2` and maps
# it to the point of the input it reads:
#
# .. math::
#
#    \begin{pmatrix} x^s_i \\ y^s_i \end{pmatrix}
#    = \theta \begin{pmatrix} x^t_i \\ y^t_i \\ 1 \end{pmatrix}
#    = \begin{pmatrix} \theta_{11} & \theta_{12} & \theta_{13} \\
#                      \theta_{21} & \theta_{22} & \theta_{23} \end{pmatrix}
#      \begin{pmatrix} x^t_i \\ y^t_i \\ 1 \end{pmatrix}.
#
# The source point falls between pixels, so the **bilinear sampler** mixes the
# (at most four) nearest input pixels :math:`U_{nm}` of each channel, weighted
# by closeness, with the source point :math:`(x^s_i, y^s_i)` now in pixel units:
#
# .. math::
#
#    V_i = \sum_{n=1}^{H} \sum_{m=1}^{W} U_{nm}\, \max\big(0, 1 - |x^s_i - m|\big)\, \max\big(0, 1 - |y^s_i - n|\big).
#
# :math:`V_i` is differentiable in :math:`U` and, almost everywhere, in
# :math:`(x^s_i, y^s_i)` and hence in :math:`\theta`: the gradient of the loss
# flows back into the localisation network. PyTorch has both steps built in
# (``F.affine_grid``, ``F.grid_sample``); in TensorFlow we write them out.
#
# Dimension flow::
#
#     image (B, 1, 28, 28) -> localisation -> (B, 10, 3, 3) -> dense 32 -> dense 6 -> theta (B, 2, 3)
#     theta -> grid (B, 28, 28, 2) -> sample the image -> (B, 1, 28, 28)
#           -> conv 5x5, 10 -> pool -> conv 5x5, 20 -> channel dropout -> pool -> dense 50 -> dropout -> dense 10
#
# Hyperparameters, declared once
# ------------------------------
# Both twins read the same settings, Adam's epsilon included (1e-8 is
# PyTorch's default, Keras' is 1e-7). Training is counted in optimiser steps,
# so that the small embedded subset, cycled, trains as long as the full data.
# None of these was tuned: the batch of 64 and the dropout rate are the
# tutorial's, 1e-3 is Adam's usual rate, the number of steps is what the time
# budget allows, and the distortion was set once to make the task hard for a
# plain network.

# sphinx_gallery_thumbnail_number = 4
import dataclasses
import functools
import textwrap

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.baselines.linear import choose_l2
from torchflow.data import DataError, load_images
from torchflow.frameworks import label
from torchflow.metrics import paired_difference, proportion_standard_error
from torchflow.plot import plot_curves, show_grid
from torchflow.prep.augment import distort, random_affine
from torchflow.training import StepClock, batch_indices

run = torchflow.Run()
fill = functools.partial(textwrap.fill, width=88, subsequent_indent="  ")  # printed lines fit the page
frameworks = torchflow.available_frameworks()  # the twins that can run here
hp = torchflow.Settings(
    batch_size=64,
    learning_rate=1e-3,  # Adam
    adam_epsilon=1e-8,
    dropout=0.5,
    steps=torchflow.scaled(smoke=48, cpu=1_250, full=18_750),  # smoke: 48, not 16, to get clear of chance
    evaluations=torchflow.scaled(smoke=1, cpu=4, full=20),  # validation-accuracy points on the curves
    train_size=torchflow.scaled(smoke=1_000, cpu=20_000, full=None),  # None: all of it
    test_size=torchflow.scaled(smoke=500, cpu=5_000, full=None),
    validation_fraction=1 / 12,  # the last 5,000 of 60,000 training images, never trained on
    validation_size=torchflow.scaled(smoke=500, cpu=None, full=None),  # None: all of the held-out images
    # the distortion: rotation up to +-60 degrees, size x0.6 to x1, shift up to 1/4 of the half-width
    distortion=dict(max_rotation=60.0, scale=(0.6, 1.0), max_shift=0.25),
    seed=0,
    lr_iterations=torchflow.scaled(smoke=30, cpu=100, full=200),  # the logistic regression's L-BFGS
    lr_penalties=(1e-1, 1e-2, 1e-3, 1e-4),
)
WITH, WITHOUT = "distorted test accuracy", "distorted test accuracy without STN"
# cpu and full: the STN beats the stronger twin's classifier without it, and the logistic regression
run.expect(WITH, above_baseline_by=torchflow.scaled(smoke=None, cpu=0.02, full=0.02))
# smoke: both networks learned, twice chance (0.1); the gain from the STN needs the longer budgets
run.expect(WITH, at_least=torchflow.scaled(smoke=0.2, cpu=None, full=None))
run.expect(WITHOUT, at_least=torchflow.scaled(smoke=0.2, cpu=None, full=None))
hp

# %%
# The dimension flow, traced from both twins: the localisation network
# (``loc_*``) predicts the six numbers of θ; the grid generator and the sampler
# have no weights, so the flow goes on with the warped image at ``conv1``.
from torchflow.flow import draw_flows, trace_image_twins

flows = trace_image_twins("stn", "STNClassifier", (28, 28, 1), frameworks=frameworks)
fig = draw_flows(flows, title="spatial transformer, then the classifier")

# %%
# Distorted data
# --------------
# Every training and test image is warped by its own random affine map, made
# with the same grid and bilinear sampler as above (in NumPy,
# :func:`torchflow.prep.augment.distort`). The distortions are drawn once, so
# both twins see exactly the same images; the test set's maps are kept, to
# measure below how much of them the transformer undoes. The validation split
# is the last twelfth of the training images; the training subset is drawn from
# the rest.
try:
    train, test = load_images("mnist", "train"), load_images("mnist", "test")
except DataError:
    print("MNIST is not available here; using Fashion-MNIST instead.")
    train, test = load_images("fashion-mnist", "train"), load_images("fashion-mnist", "test")
held_out = round(len(train) * hp.validation_fraction)
validation = dataclasses.replace(train, images=train.images[-held_out:], labels=train.labels[-held_out:],
                                 info=dataclasses.replace(train.info, count=held_out))
train = dataclasses.replace(train, images=train.images[:-held_out], labels=train.labels[:-held_out],
                            info=dataclasses.replace(train.info, count=len(train) - held_out))
train, validation, test = train.take(hp.train_size), validation.take(hp.validation_size), test.take(hp.test_size)
run.use_data(train, test, "Every training, validation and test image randomly rotated, scaled and shifted "
             f"(distort()); validation: {len(validation):,} of the last {held_out:,} training images, "
             "not trained on.")
chunk = 5_000  # distort() draws the maps chunk by chunk; the same draws give the test set's maps
train_images = (distort(train.images, seed=1, chunk=chunk, **hp.distortion) / 255.0).astype(np.float32)
val_images = (distort(validation.images, seed=3, chunk=chunk, **hp.distortion) / 255.0).astype(np.float32)
test_images = (distort(test.images, seed=2, chunk=chunk, **hp.distortion) / 255.0).astype(np.float32)
rng = np.random.default_rng(2)
test_theta = np.concatenate([random_affine(len(test.images[start : start + chunk]), rng, **hp.distortion)
                             for start in range(0, len(test), chunk)])
eval_at = np.linspace(0, hp.steps, hp.evaluations + 1)[1:].round().astype(int).tolist()  # the last: after training
print(fill(f"train {train_images.shape}, validation {val_images.shape}, test {test_images.shape}; {hp.steps} steps of {hp.batch_size}: "
      f"{hp.steps * hp.batch_size / len(train_images):.1f} passes over the training set"))
fig, ax = plt.subplots(figsize=(9, 2.4))
show_grid(np.concatenate([test.images[:12] / 255.0, test_images[:12]]), ncols=12, ax=ax,
          row_labels=["original", "distorted"])
ax.set_title("test images before and after the random distortion")
shown = test_images[:12]
results = {}

# %%
# The cheap baseline: a logistic regression on the distorted pixels, fitted by
# L-BFGS with its L2 penalty chosen on the distorted validation images
# (:func:`torchflow.baselines.linear.choose_l2`).
logistic, penalties = choose_l2(train_images, train.labels, val_images, validation.labels, 10,
                                hp.lr_penalties, hp.lr_iterations)
baseline_correct = logistic.predict(test_images) == test.labels
run.baseline(WITH, baseline_correct.mean(), "logistic regression on the distorted pixels",
             noise=proportion_standard_error(baseline_correct.mean(), len(test)))
print(fill("validation accuracy by L2 penalty: " + ", ".join(f"{l2:g}: {a:.2%}" for l2, a in penalties.items())
      + f" -> {logistic.l2:g}; distorted test accuracy {baseline_correct.mean():.2%}"))

# %%
# The model: twins
# ----------------
# ``use_stn=False`` gives the same classifier without the transformer: the
# baseline. Dropout (on whole feature maps after the second convolution, on
# units before the last layer) acts only while training.
#
# .. tab-set::
#    :sync-group: framework
#
#    .. tab-item:: PyTorch
#       :sync: torch
#
#       .. literalinclude:: /../torchflow/pt/stn.py
#          :language: python
#          :pyobject: STNClassifier
#
#       .. literalinclude:: /../torchflow/pt/stn.py
#          :language: python
#          :pyobject: affine_grid
#
#       .. literalinclude:: /../torchflow/pt/stn.py
#          :language: python
#          :pyobject: grid_sample
#
#    .. tab-item:: TensorFlow
#       :sync: tensorflow
#
#       .. literalinclude:: /../torchflow/tf/stn.py
#          :language: python
#          :pyobject: STNClassifier
#
#       .. literalinclude:: /../torchflow/tf/stn.py
#          :language: python
#          :pyobject: affine_grid
#
#       .. literalinclude:: /../torchflow/tf/stn.py
#          :language: python
#          :pyobject: grid_sample
#
# Training the PyTorch twin
# -------------------------
# The training images live in one tensor; each step slices its batch by the
# indices that :func:`~torchflow.training.batch_indices` gives both twins.
# ``model.train()`` before the steps switches dropout on; ``model.eval()`` and
# ``torch.no_grad()`` for the evaluations switch it off and record no graph.
if run.trains("torch"):
    import torch
    import torch.nn.functional as F

    from torchflow.device import torch_device
    from torchflow.pt.stn import STNClassifier

    torch_dev = torch_device()
    torch_x = torch.as_tensor(train_images[:, None], device=torch_dev)
    torch_y = torch.as_tensor(train.labels, device=torch_dev)
    torch_val_x = torch.as_tensor(val_images[:, None], device=torch_dev)
    torch_test_x = torch.as_tensor(test_images[:, None], device=torch_dev)

    @torch.no_grad()
    def torch_correct(model, images, labels):
        model.eval()
        predictions = torch.cat([model(batch).argmax(1) for batch in images.split(1000)])
        return predictions.cpu().numpy() == labels

    def torch_fit(use_stn):
        torch.manual_seed(hp.seed)
        model = STNClassifier(use_stn=use_stn, dropout=hp.dropout).to(torch_dev)
        optimizer = torch.optim.Adam(model.parameters(), lr=hp.learning_rate, eps=hp.adam_epsilon)
        clock, curve = StepClock(), []
        model.train()
        for step, index in enumerate(batch_indices(len(train_images), hp.batch_size, hp.steps, seed=hp.seed), 1):
            index = torch.as_tensor(index, device=torch_dev)
            with clock:
                loss = F.cross_entropy(model(torch_x[index]), torch_y[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            if step in eval_at:
                curve.append(torch_correct(model, torch_val_x, validation.labels).mean())
                model.train()
                print(f"{'with' if use_stn else 'without'} STN, step {step}: validation accuracy {curve[-1]:.2%}")
        return model, curve, clock

    torch_model, torch_curve, torch_clock = torch_fit(use_stn=True)
    torch_baseline, torch_baseline_curve, _ = torch_fit(use_stn=False)
    torch_test = {"correct": torch_correct(torch_model, torch_test_x, test.labels),  # the test set, once each
                  "baseline correct": torch_correct(torch_baseline, torch_test_x, test.labels)}
    with torch.no_grad():
        torch_model.eval()
        torch_seen, _ = torch_model.transform(torch.as_tensor(shown[:, None], device=torch_dev))
        torch_theta = torch.cat([torch_model.transform(batch)[1] for batch in torch_test_x.split(1000)])
    results["torch"] = dict(curve=torch_curve, baseline=torch_baseline_curve, clock=torch_clock, **torch_test,
                            seen=torch_seen[:, 0].cpu().numpy(), theta=torch_theta.cpu().numpy(),
                            device=str(torch_dev))

# %%
# Training the TensorFlow twin
# ----------------------------
# ``training=True`` in the step switches dropout on; the evaluation calls the
# model with ``training=False``.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.device import tf_device
    from torchflow.tf.stn import STNClassifier

    tf_dev = tf_device()
    tf_x, tf_y = tf.constant(train_images[..., None]), tf.constant(train.labels)

    def tf_correct(model, images, labels):
        predictions = [tf.argmax(model(images[start : start + 1000, ..., None], training=False), 1).numpy()
                       for start in range(0, len(images), 1000)]
        return np.concatenate(predictions) == labels

    def tf_fit(use_stn):
        keras.utils.set_random_seed(hp.seed)
        model = STNClassifier(use_stn=use_stn, dropout=hp.dropout)
        optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate, epsilon=hp.adam_epsilon)

        @tf.function
        def train_step(index):
            images, labels = tf.gather(tf_x, index), tf.gather(tf_y, index)
            with tf.GradientTape() as tape:
                logits = model(images, training=True)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return loss

        clock, curve = StepClock(), []
        for step, index in enumerate(batch_indices(len(train_images), hp.batch_size, hp.steps, seed=hp.seed), 1):
            with clock:
                train_step(tf.constant(index))
            if step in eval_at:
                curve.append(tf_correct(model, val_images, validation.labels).mean())
                print(f"{'with' if use_stn else 'without'} STN, step {step}: validation accuracy {curve[-1]:.2%}")
        return model, curve, clock

    with tf.device(tf_dev):
        tf_model, tf_curve, tf_clock = tf_fit(use_stn=True)
        tf_baseline, tf_baseline_curve, _ = tf_fit(use_stn=False)
        tf_test = {"correct": tf_correct(tf_model, test_images, test.labels),  # the test set, once each
                   "baseline correct": tf_correct(tf_baseline, test_images, test.labels)}
        tf_seen, _ = tf_model.transform(shown[..., None])
        tf_theta = np.concatenate([tf_model.transform(test_images[start : start + 1000, ..., None])[1].numpy()
                                   for start in range(0, len(test_images), 1000)])
    results["tensorflow"] = dict(curve=tf_curve, baseline=tf_baseline_curve, clock=tf_clock, **tf_test,
                                 seen=tf_seen.numpy()[..., 0], theta=tf_theta, device=tf_dev)

# %%
# With and without the transformer
# --------------------------------
# Each twin trains the classifier twice, with and without the transformer, on
# the same batches. The classifier without it is a baseline of the verdict (the
# stronger of the two twins' is the one to beat), beside the logistic
# regression; the target: the transformer's accuracy on the distorted test
# images is higher by at least the stated margin. Every number carries its
# binomial standard error on the test images.
modes = {"torch": "eager", "tensorflow": "tf.function"}
for name, r in results.items():
    r["test"], r["baseline test"] = r["correct"].mean(), r["baseline correct"].mean()
    run.baseline(WITH, r["baseline test"], f"the same CNN without the STN ({label(name)})",
                 noise=proportion_standard_error(r["baseline test"], len(test)))
for name, r in results.items():
    run.record(name, {WITH: r["test"], WITHOUT: r["baseline test"]},
               noise={WITH: proportion_standard_error(r["test"], len(test)),
                      WITHOUT: proportion_standard_error(r["baseline test"], len(test))},
               device=r["device"], mode=modes[name], clock=r["clock"])
verdict = run.verdict()
verdict

# %%
# The gain is a difference on the same test images, so its standard error is
# the paired one (:func:`torchflow.metrics.paired_difference`): much smaller
# than either accuracy's, because the two networks agree on most images.
for name, r in results.items():
    gain, noise = paired_difference(r["correct"], r["baseline correct"])
    r["gain"] = gain
    print(f"{label(name)}: {r['test']:.2%} with the STN, {r['baseline test']:.2%} without: "
          f"{100 * gain:+.2f} ± {100 * noise:.2f} points")
if verdict.below_baseline and run.budget != "smoke":
    print(fill(f"In the '{run.budget}' budget ({hp.steps:,} steps) the transformer does not clearly beat "
          f"{run.strongest_baseline(WITH).name}; whether a longer budget closes the gap is not measured here."))

# %%
# Accuracy on the distorted validation images as training goes on: solid lines
# with the spatial transformer, dashed without.
fig, ax = plt.subplots(figsize=(7, 4))
steps_axis = eval_at
curves = {f"{name} with STN": r["curve"] for name, r in results.items()}
curves.update({f"{name} without STN": r["baseline"] for name, r in results.items()})
plot_curves(curves, ax=ax, x={name: steps_axis for name in curves}, xlabel="optimiser step",
            ylabel="validation accuracy")
for line in ax.lines[len(results):]:
    line.set_linestyle("--")
ax.set_title("with the STN (solid) and without (dashed)")
ax.legend()
fig.tight_layout()

# %%
# What the transformer does to its input
# --------------------------------------
# Top row: distorted test images. Below: what each twin's classifier actually
# sees after the spatial transformer. Nobody told it what "upright" means; it
# learned whatever map the classification loss rewarded; the lines below say
# how much rotation it undoes.
rows = [shown] + [r["seen"] for r in results.values()]
fig, ax = plt.subplots(figsize=(9, 1 + 0.8 * len(rows)))
show_grid(np.concatenate(rows), ncols=len(shown), ax=ax,
          row_labels=["input"] + [f"{label(n)} STN" for n in results])
_ = ax.set_title("input vs transformed")

# %%
# How much of the distortion does it undo? Each test image was distorted by a
# known map :math:`\theta_d` (output point → point of the original it reads);
# the transformer then reads its own output from the distorted image through
# :math:`\theta`. Together, the classifier sees the original through the linear
# part :math:`A_d A`; where that is a rotation by a smaller angle than
# :math:`A_d` alone, the transformer has undone part of the rotation. The
# square root of :math:`|\det A|` is the side of the region the transformer
# reads, relative to the whole image: below 1 it enlarges.


def rotation_degrees(linear):
    """The rotation angle of 2x2 maps (N, 2, 2), in degrees."""
    return np.degrees(np.arctan2(linear[:, 1, 0] - linear[:, 0, 1], linear[:, 0, 0] + linear[:, 1, 1]))


applied = np.abs(rotation_degrees(test_theta[:, :, :2]))
print(f"distortion: mean |rotation| {applied.mean():.1f} degrees")
for name, r in results.items():
    linear = r["theta"][:, :, :2]
    left = np.abs(rotation_degrees(test_theta[:, :, :2] @ linear))
    side = np.sqrt(np.abs(np.linalg.det(linear)))
    r["rotation left"] = left.mean()
    print(fill(f"{label(name)}: mean |rotation| left after the STN {left.mean():.1f} degrees "
          f"({1 - left.mean() / applied.mean():+.0%} of it undone); side of the region read {side.mean():.2f} "
          f"of the image (median {np.median(side):.2f}); theta of the first test image "
          + " / ".join(" ".join(f"{v:+.2f}" for v in row) for row in r["theta"][0])))

# %%
# Comparison
# ----------
# Both twins' accuracies with and without the transformer, the baselines, and
# the time per step (of the network with the transformer).
run.compare()

# %%
record = run.finish()
