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

This page trains the same classifier with and without a spatial transformer on
randomly rotated, scaled and shifted images, in PyTorch and in TensorFlow 2,
so that the benefit is measured rather than claimed. The tutorial uses MNIST
digits; the book is built offline, where MNIST is not available, and then the
images are Fashion-MNIST clothes (the data line of the stamp at the bottom says
which).
"""

# sphinx_gallery_thumbnail_number = 4

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
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data.augment import distort
from torchflow.data import DataError, load_images
from torchflow.plot import plot_curves, show_grid
from torchflow.training import StepClock

run = torchflow.Run("cnn-spatial-transformer")
frameworks = torchflow.available_frameworks()  # the twins that can run here
hp = SimpleNamespace(
    batch_size=64,
    learning_rate=1e-3,  # Adam: the tutorial's SGD needs many more epochs
    dropout=0.5,
    epochs=torchflow.scaled(smoke=1, cpu=4, full=20),
    train_size=torchflow.scaled(smoke=1_000, cpu=20_000, full=None),  # None: all of it
    test_size=torchflow.scaled(smoke=500, cpu=5_000, full=None),
    # the distortion: rotation up to +-60 degrees, size x0.6 to x1, shift up to 1/4 of the half-width
    distortion=dict(max_rotation=60.0, scale=(0.6, 1.0), max_shift=0.25),
    seed=0,
)
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
# :func:`torchflow.data.augment.distort`). The distortions are drawn once, so
# both twins see exactly the same images.
try:
    train, test = load_images("mnist", "train"), load_images("mnist", "test")
except DataError:
    print("MNIST is not available here; using Fashion-MNIST instead.")
    train, test = load_images("fashion-mnist", "train"), load_images("fashion-mnist", "test")
train, test = train.take(hp.train_size), test.take(hp.test_size)
run.use_data(train.describe() + " Randomly rotated, scaled and shifted.")
run.use_data(test.describe() + " Randomly rotated, scaled and shifted.")
train_images = (distort(train.images, seed=1, **hp.distortion) / 255.0).astype(np.float32)
test_images = (distort(test.images, seed=2, **hp.distortion) / 255.0).astype(np.float32)
print(f"train {train_images.shape}, test {test_images.shape}")
fig, ax = plt.subplots(figsize=(9, 2.4))
show_grid(np.concatenate([test.images[:12] / 255.0, test_images[:12]]), ncols=12, ax=ax,
          row_labels=["original", "distorted"])
shown = test_images[:12]
results = {}

# %%
# The model: twins
# ----------------
# ``use_stn=False`` gives the same classifier without the transformer: the
# baseline. Dropout (on whole feature maps after the second convolution, on
# units before the last layer) acts only while training.
#
# .. tab-set::
#
#    .. tab-item:: PyTorch
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
# ``model.train()`` before the steps switches dropout on; ``model.eval()`` and
# ``torch.no_grad()`` for the test switch it off and record no graph.
if "torch" in frameworks:
    import torch
    import torch.nn.functional as F

    from torchflow.data.wrappers import torch_loader
    from torchflow.device import torch_device
    from torchflow.pt import stn as torch_stn

    torch_dev = torch_device()

    @torch.no_grad()
    def torch_accuracy(model):
        model.eval()
        images = torch.as_tensor(test_images[:, None], device=torch_dev)
        return (model(images).argmax(1).cpu().numpy() == test.labels).mean()

    def torch_fit(use_stn):
        torch.manual_seed(hp.seed)
        model = torch_stn.STNClassifier(use_stn=use_stn, dropout=hp.dropout).to(torch_dev)
        optimizer = torch.optim.Adam(model.parameters(), lr=hp.learning_rate)
        loader = torch_loader(train_images[:, None], train.labels, batch_size=hp.batch_size, seed=hp.seed)
        clock, curve = StepClock(), []
        for epoch in range(hp.epochs):
            model.train()
            for images, labels in loader:
                with clock:
                    loss = F.cross_entropy(model(images.to(torch_dev)), labels.to(torch_dev))
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
            curve.append(torch_accuracy(model))
            print(f"{'with' if use_stn else 'without'} STN, epoch {epoch + 1}: test accuracy {curve[-1]:.2%}")
        return model, curve, clock

    torch_model, torch_curve, torch_clock = torch_fit(use_stn=True)
    _, torch_baseline_curve, _ = torch_fit(use_stn=False)
    with torch.no_grad():
        torch_seen, torch_theta = torch_model.eval().transform(torch.as_tensor(shown[:, None], device=torch_dev))
    results["torch"] = dict(curve=torch_curve, baseline=torch_baseline_curve, clock=torch_clock,
                            seen=torch_seen[:, 0].cpu().numpy(), theta=torch_theta.cpu().numpy(),
                            device=str(torch_dev))
else:
    print(torchflow.skip_note("torch"))
    run.skip("torch")

# %%
# Training the TensorFlow twin
# ----------------------------
# ``training=True`` in the step switches dropout on; the evaluation calls the
# model with ``training=False``.
if "tensorflow" in frameworks:
    import keras
    import tensorflow as tf

    from torchflow.data.wrappers import tf_dataset
    from torchflow.device import tf_device
    from torchflow.tf import stn as tf_stn

    tf_dev = tf_device()

    def tf_accuracy(model):
        predictions = [tf.argmax(model(x, training=False), 1).numpy()
                       for x in tf_dataset(test_images[..., None], batch_size=1000, shuffle=False)]
        return (np.concatenate(predictions) == test.labels).mean()

    def tf_fit(use_stn):
        keras.utils.set_random_seed(hp.seed)
        model = tf_stn.STNClassifier(use_stn=use_stn, dropout=hp.dropout)
        optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate)

        @tf.function
        def train_step(images, labels):
            with tf.GradientTape() as tape:
                logits = model(images, training=True)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return loss

        clock, curve = StepClock(), []
        for epoch in range(hp.epochs):
            for images, labels in tf_dataset(train_images[..., None], train.labels, batch_size=hp.batch_size,
                                             seed=hp.seed, epoch=epoch):
                with clock:
                    train_step(images, labels)
            curve.append(tf_accuracy(model))
            print(f"{'with' if use_stn else 'without'} STN, epoch {epoch + 1}: test accuracy {curve[-1]:.2%}")
        return model, curve, clock

    with tf.device(tf_dev):
        tf_model, tf_curve, tf_clock = tf_fit(use_stn=True)
        _, tf_baseline_curve, _ = tf_fit(use_stn=False)
        tf_seen, tf_theta = tf_model.transform(shown[..., None])
    results["tensorflow"] = dict(curve=tf_curve, baseline=tf_baseline_curve, clock=tf_clock,
                                 seen=tf_seen.numpy()[..., 0], theta=tf_theta.numpy(), device=tf_dev)
else:
    print(torchflow.skip_note("tensorflow"))
    run.skip("tensorflow")

# %%
# With and without the transformer
# --------------------------------
# Test accuracy on the distorted test images after each epoch: solid lines
# with the spatial transformer, dashed without.
fig, ax = plt.subplots(figsize=(7, 4))
plot_curves({f"{name} with STN": r["curve"] for name, r in results.items()}, ax=ax, ylabel="test accuracy")
plot_curves({f"{name} without STN": r["baseline"] for name, r in results.items()}, ax=ax, ylabel="test accuracy")
for line in ax.lines[len(results):]:
    line.set_linestyle("--")
ax.legend()
fig.tight_layout()

# %%
# What the transformer does to its input
# --------------------------------------
# Top row: distorted test images. Below: what each twin's classifier actually
# sees after the spatial transformer. Nobody told it what "upright" means; it
# learned whatever map makes classification easiest, which tends to enlarge
# and centre the object and to undo part of the rotation.
rows = [shown] + [r["seen"] for r in results.values()]
fig, ax = plt.subplots(figsize=(9, 1 + 0.8 * len(rows)))
show_grid(np.concatenate(rows), ncols=len(shown), ax=ax,
          row_labels=["input"] + [f"{torchflow.frameworks.label(n)} STN" for n in results])
ax.set_title("input vs transformed")
for name, r in results.items():
    print(f"{torchflow.frameworks.label(name)}: theta of the first test image\n{np.round(r['theta'][0], 2)}")

# %%
# Comparison
# ----------
for name, r in results.items():
    gain = r["curve"][-1] - r["baseline"][-1]
    print(f"{torchflow.frameworks.label(name)}: {r['curve'][-1]:.2%} with the STN, "
          f"{r['baseline'][-1]:.2%} without ({gain:+.2%})")
    run.record(name, {"distorted test accuracy with STN": r["curve"][-1],
                      "distorted test accuracy without STN": r["baseline"][-1]},
               seconds_per_step=r["clock"].seconds_per_step, train_seconds=r["clock"].total_seconds,
               device=r["device"])
record = run.finish()
