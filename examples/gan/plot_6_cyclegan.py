"""
CycleGAN: unpaired translation between two domains
==================================================

A CycleGAN (Zhu, Park, Isola and Efros, 2017) learns to translate images of one
domain :math:`A` into another domain :math:`B` and back without a single pair
of matching images: two generators, :math:`G_{AB}: A \\to B` and
:math:`G_{BA}: B \\to A`, each play a GAN game against a discriminator of their
target domain, and a *cycle-consistency* loss asks that translating there and
back returns the image we started from. The cycle is what ties an output to its
input: the adversarial loss alone only asks for *some* image of the other
domain.

The paper translates horses into zebras and photographs into paintings. This
page, sized for a CPU, translates between two classes of Fashion-MNIST: sneakers
(:math:`A`) and ankle boots (:math:`B`), shoes that differ mostly by the shaft
of the boot, so that a translation has to add or remove it while keeping the
rest. The book's judge, a classifier trained on all ten classes, says whether a
translated sneaker looks like an ankle boot to it, and the other way round. Both
twins are written with the layers APIs, as the DCGAN page's.
"""

# sphinx_gallery_thumbnail_number = 3

# %%
# The losses
# ----------
# Each discriminator outputs a map of scores, one per overlapping patch of the
# image (a *PatchGAN*), and plays the *least-squares* game of the paper (LSGAN:
# real patches pushed to 1, translated ones to 0), which trains more stably than
# the cross-entropy of the earlier pages:
#
# .. math::
#
#    \mathcal{L}_{D_B} = \tfrac12\,\mathbb{E}_b\big[(D_B(b) - 1)^2\big]
#                      + \tfrac12\,\mathbb{E}_a\big[D_B(G_{AB}(a))^2\big],
#    \qquad
#    \mathcal{L}_{\text{GAN}}(G_{AB}) = \mathbb{E}_a\big[(D_B(G_{AB}(a)) - 1)^2\big],
#
# and the same for :math:`D_A` and :math:`G_{BA}`. The generators together
# minimise their two adversarial losses plus the cycle-consistency loss, an L1
# distance weighted by :math:`\lambda = 10`, and the *identity* loss of the
# paper, weighted :math:`\lambda_{\text{id}}` (the paper uses
# :math:`0.5\lambda`): an image that already belongs to the target domain should
# come out unchanged, which discourages changes the translation does not need
# (this page sets :math:`\lambda_{\text{id}} = 0`: on a validation split, with
# the paper's weight or a smaller one, the translated ankle boots took longer
# to pass for sneakers, and the budget is a few hundred steps; the cycle loss
# alone keeps the translations close to their inputs here):
#
# .. math::
#
#    \mathcal{L}_G = \mathcal{L}_{\text{GAN}}(G_{AB}) + \mathcal{L}_{\text{GAN}}(G_{BA})
#    + \lambda\big(\lVert G_{BA}(G_{AB}(a)) - a\rVert_1 + \lVert G_{AB}(G_{BA}(b)) - b\rVert_1\big)
#    + \lambda_{\text{id}}\big(\lVert G_{AB}(b) - b\rVert_1 + \lVert G_{BA}(a) - a\rVert_1\big).
#
# Each training step is one Adam step on both generators (one optimiser holds
# both weight lists), then one on both discriminators, which score the same
# translations cut from the generators' graphs.
#
# Where this page departs from the notes (``NOTES.md``) and the paper: two
# Fashion-MNIST classes stand in for horse2zebra, which the book cannot ship
# offline; the networks are small (two stride-2 levels and two residual blocks
# instead of nine, 28×28 images, a PatchGAN of two stride-2 and two 3×3
# layers whose 49 scores are each computed from a 26×26 window of the image,
# zero-padded at the borders, instead of 70×70 patches: its receptive field,
# measured in ``tests/test_losses_gan_conv.py``; the instance norms also give
# every score each image's own statistics, which see all of it); the batch holds several images instead of one; the
# generators pad with zeros instead of reflections (Keras has no reflection
# padding layer, and ``"same"`` zeros match PyTorch's ``padding``); and the
# paper's history of 50 past translations, from which the discriminators draw
# half their fakes, is left out (the discriminators see the current step's
# translations), to keep the step short and the same in both twins.
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_domains
from torchflow.judge import Judge
from torchflow.plot import plot_curves, side_by_side
from torchflow.training import StepClock, batch_indices

run = torchflow.Run()
hp = SimpleNamespace(
    domains=("Sneaker", "Ankle boot"),  # A, B
    channels=8,  # c: the generators go c -> 2c -> 4c (residual blocks) -> 2c -> c -> 1 channels
    blocks=2,  # residual blocks at 7x7
    d_channels=16,  # the discriminators go c -> 2c -> 1 (patch scores)
    image_size=28,
    batch_size=8,  # images of each domain a step
    learning_rate=2e-4,
    beta_1=0.5,
    adam_epsilon=1e-8,
    cycle_weight=10.0,  # lambda
    identity_weight=0.0,  # lambda_id: the paper's 0.5 lambda held the boots back (validation split)
    steps=torchflow.scaled(smoke=16, cpu=600, full=10_000),
    log_every=torchflow.scaled(smoke=4, cpu=25, full=100),
    test_size=torchflow.scaled(smoke=200, cpu=None, full=None),  # test images of each domain scored; None: all
    seed=0,
)
TARGET = torchflow.scaled(smoke=None, cpu=0.8, full=0.8)
RATE_AB, RATE_BA = "A→B judged as B (test)", "B→A judged as A (test)"
CYCLE_ABA, CYCLE_BAB = "cycle L1 error A→B→A (test)", "cycle L1 error B→A→B (test)"
GAP = "largest gap between the twins' metrics (relative)"
run.expect(RATE_AB, at_least=TARGET)
run.expect(RATE_BA, at_least=TARGET)
if len(torchflow.available_frameworks()) == 2:
    run.expect(GAP, at_most=torchflow.scaled(smoke=None, cpu=0.25, full=0.25))
# The smoke run's behaviour check: in its few steps the generators' step lowers the cycle loss (a cycle
# loss left out of the generators' objective, or a step that never updates them, would not).
CYCLE_FALL = "cycle loss, last logged / first logged (training batches)"
run.expect(CYCLE_FALL, at_most=torchflow.scaled(smoke=0.85, cpu=None, full=None))  # measured 0.72 (both sources)
hp

# %%
# The dimension flow, traced from the twins
# -----------------------------------------
# Each twin's generator and discriminator run on two blank images, and every
# layer's output shape is recorded (channels last for both; the PyTorch twin
# computes channels first). The generator keeps the image size from end to end;
# the discriminator ends on a 7×7 map of patch scores, flattened to 49.
from torchflow.flow import draw_flows, trace_image_twins

frameworks = torchflow.available_frameworks()
shape = (hp.image_size, hp.image_size, 1)
flows = trace_image_twins("cyclegan", "Generator", shape, frameworks=frameworks,
                          model_kwargs=dict(channels=hp.channels, blocks=hp.blocks, image_size=hp.image_size))
fig = draw_flows(flows, title="CycleGAN generator: an image to an image of the other domain")
flows = trace_image_twins("cyclegan", "Discriminator", shape, frameworks=frameworks,
                          model_kwargs=dict(channels=hp.d_channels, image_size=hp.image_size))
fig = draw_flows(flows, title="PatchGAN discriminator: an image to 7x7 patch scores")

# %%
# Data and the judge
# ------------------
# The two domains come from the data layer (:func:`torchflow.data.load_domains`):
# the sneakers and the ankle boots of Fashion-MNIST's own training split to train
# on, and of its test split to score, pixels scaled to :math:`[-1, 1]`. The
# images are *unpaired*: each step draws a batch of each domain independently.
# The judge, trained once on all ten classes of the training set and cached,
# reads translated test images; before any training it sees the test sneakers
# as ankle boots (and the other way round) rarely (printed below): the scale of
# the rates below. The sizes, the batch, the number of steps and the identity
# weight were chosen on a validation split of the training images (the last
# 1,000 of each domain held out; ``benchmarks/gan-cyclegan-cpu.md``), never on the
# test images.
train_a, train_b = load_domains("fashion-mnist", "train", hp.domains)
test_a, test_b = load_domains("fashion-mnist", "test", hp.domains)
run.use_data(train_a, train_b, test_a, test_b)
judge = Judge.load("fashion-mnist")
print(f"judge: test accuracy {judge.test_accuracy:.1%}; trained on {judge.trained_on}")
label_a, label_b = (train_a.classes.index(d) for d in hp.domains)


def scaled(images):
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [-1, 1]."""
    return (images[:, None] / np.float32(127.5) - 1).astype(np.float32)


def to_unit(images):
    """Images in [-1, 1], channels first or last, as (N, 28, 28) in [0, 1] (what the judge reads)."""
    return (np.asarray(images).reshape(len(images), hp.image_size, hp.image_size) + 1) / 2


x_a, x_b = scaled(train_a.images), scaled(train_b.images)
test_x_a, test_x_b = scaled(test_a.images[: hp.test_size]), scaled(test_b.images[: hp.test_size])
print(f"{len(x_a):,} {hp.domains[0]} and {len(x_b):,} {hp.domains[1]} training images; "
      f"{len(test_x_a):,} and {len(test_x_b):,} test images")
rate_ab_before = judge.label_accuracy(to_unit(test_x_a), np.full(len(test_x_a), label_b))
rate_ba_before = judge.label_accuracy(to_unit(test_x_b), np.full(len(test_x_b), label_a))
print(f"untranslated test images: the judge calls {rate_ab_before:.1%} of the {hp.domains[0].lower()}s "
      f"'{hp.domains[1]}' and {rate_ba_before:.1%} of the {hp.domains[1].lower()}s '{hp.domains[0]}'")


# %%
# Both twins start from the *same* weights (the PyTorch twin's initial weights,
# copied into the TensorFlow twin by :func:`torchflow.convert.copy_weights`) and
# see the *same* batches: the indices of each domain come from
# :func:`~torchflow.training.batch_indices` with its own seed. The twins are one
# experiment run twice; what separates them is float32 rounding, which the GAN
# game amplifies step by step. ``train`` is the
# loop both twins share: it calls a twin's ``train_step`` (generators, then
# discriminators) and averages its losses every ``log_every`` steps.
results = {}
initial_weights = {}  # the PyTorch twin's networks before training, for the TensorFlow twin
LOSSES = ("adversarial", "cycle", "identity", "discriminators")


def train(train_step, clock):
    """``hp.steps`` steps; returns the averaged losses along training."""
    history, totals = dict(steps=[], **{k: [] for k in LOSSES}), np.zeros(len(LOSSES))
    batches = zip(batch_indices(len(x_a), hp.batch_size, hp.steps, hp.seed),
                  batch_indices(len(x_b), hp.batch_size, hp.steps, hp.seed + 1))
    for step, (index_a, index_b) in enumerate(batches, 1):
        with clock:
            losses = train_step(index_a, index_b)  # a dict of numbers (PyTorch) or of tensors (TensorFlow)
            totals += [float(losses[key]) for key in LOSSES]
        if step % hp.log_every == 0:
            history["steps"].append(step)
            for key, value in zip(LOSSES, totals / hp.log_every):
                history[key].append(value)
            totals[:] = 0
    print("after {} steps: adversarial {:.3f}, cycle {:.3f}, identity {:.3f}, discriminators {:.3f}".format(
        hp.steps, *(history[k][-1] for k in LOSSES)))
    return dict(history=history, cycle_fall=history["cycle"][-1] / history["cycle"][0])


# %%
# The model: twins with the layers API
# ------------------------------------
# The generator is the paper's encoder, residual blocks and decoder: a 7×7
# convolution, two stride-2 convolutions down to 7×7, ``blocks`` residual blocks
# (two 3×3 convolutions added back to their input), two transposed convolutions
# up and a 7×7 convolution with tanh. The discriminator is a small PatchGAN:
# a 7×7 map of scores, each from a window around its place.
# Instance norm (each image's channel normalised by its own statistics, no
# learned scale or shift) replaces batch norm, as in the paper: PyTorch's
# ``nn.InstanceNorm2d`` is Keras' ``GroupNormalization(groups=-1)``, one group per
# channel, with epsilon 1e-5 set in both (Keras' default is 1e-3). It has no
# running statistics, so training and evaluation mode compute the same thing and
# a translation does not depend on the other images of its batch.
# ``tests/test_parity_cyclegan.py`` checks the layer alone and the twins: the
# same weights give the same translations, patch scores, losses and gradients,
# and 50 training steps agree to float64 rounding (its docstrings give the
# measured bounds). Weights are N(0, 0.02), biases zero, in both.
#
# .. tab-set::
#
#    .. tab-item:: PyTorch
#
#       .. literalinclude:: /../torchflow/pt/cyclegan.py
#          :language: python
#          :pyobject: Generator
#
#       .. literalinclude:: /../torchflow/pt/cyclegan.py
#          :language: python
#          :pyobject: ResidualBlock
#
#       .. literalinclude:: /../torchflow/pt/cyclegan.py
#          :language: python
#          :pyobject: instance_norm
#
#       .. literalinclude:: /../torchflow/pt/cyclegan.py
#          :language: python
#          :pyobject: train_step
#
#    .. tab-item:: TensorFlow
#
#       .. literalinclude:: /../torchflow/tf/cyclegan.py
#          :language: python
#          :pyobject: Generator
#
#       .. literalinclude:: /../torchflow/tf/cyclegan.py
#          :language: python
#          :pyobject: ResidualBlock
#
#       .. literalinclude:: /../torchflow/tf/cyclegan.py
#          :language: python
#          :pyobject: instance_norm
#
#       .. literalinclude:: /../torchflow/tf/cyclegan.py
#          :language: python
#          :pyobject: train_step
#
# Training the PyTorch twin
# -------------------------
# The step is the module's ``train_step`` (in the tab above; the tests and the
# study call the same function). One optimiser holds both generators' weights
# (``itertools.chain``), another both discriminators'. The generators' loss
# flows through the discriminators into the generators; the discriminators then
# score the same translations ``detach()``-ed, so that their ``backward`` stops
# at their input.
if run.trains("torch"):
    import copy
    import itertools

    import torch

    from torchflow.device import torch_device
    from torchflow.pt.cyclegan import Discriminator, Generator, train_step

    torch.manual_seed(hp.seed)
    torch_dev = torch_device()
    train_a_t, train_b_t = (torch.as_tensor(x, device=torch_dev) for x in (x_a, x_b))
    G_AB, G_BA = (Generator(hp.channels, hp.blocks, image_size=hp.image_size).to(torch_dev) for _ in "AB")
    D_A, D_B = (Discriminator(hp.d_channels, image_size=hp.image_size).to(torch_dev) for _ in "AB")
    initial_weights = {name: copy.deepcopy(model) for name, model in dict(G_AB=G_AB, G_BA=G_BA, D_A=D_A, D_B=D_B).items()}
    adam = dict(lr=hp.learning_rate, betas=(hp.beta_1, 0.999), eps=hp.adam_epsilon)
    optimizer_G = torch.optim.Adam(itertools.chain(G_AB.parameters(), G_BA.parameters()), **adam)
    optimizer_D = torch.optim.Adam(itertools.chain(D_A.parameters(), D_B.parameters()), **adam)

    def torch_train_step(index_a, index_b):
        return train_step((G_AB, G_BA), (D_A, D_B), (optimizer_G, optimizer_D), train_a_t[index_a],
                          train_b_t[index_b], hp.cycle_weight, hp.identity_weight)

    @torch.no_grad()
    def translate(generator, images):
        return torch.cat([generator(x) for x in torch.as_tensor(images, device=torch_dev).split(500)]).cpu().numpy()

    clock = StepClock()
    generators = dict(G_AB=G_AB, G_BA=G_BA)
    results["torch"] = dict(train(torch_train_step, clock), clock=clock, device=str(torch_dev),
                            translate=lambda name, images, g=generators, f=translate: f(g[name], images))

# %%
# Training the TensorFlow twin
# ----------------------------
# The same step, the TensorFlow module's ``train_step``, in one ``tf.function``
# graph: the generators' tape records the translations and all their losses; its
# gradients update both generators' variables (one Adam over the concatenated
# lists); the discriminators' tape then scores the same translations through
# ``tf.stop_gradient`` (PyTorch's ``detach``).
# The four networks start from the PyTorch twin's initial weights when it ran.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.convert import copy_weights
    from torchflow.device import tf_device
    from torchflow.families import family
    from torchflow.tf.cyclegan import Discriminator, Generator, train_step

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()
    with tf.device(tf_dev):
        train_a_tf, train_b_tf = (tf.constant(x.transpose(0, 2, 3, 1)) for x in (x_a, x_b))  # channels last
        G_AB, G_BA = (Generator(hp.channels, hp.blocks, image_size=hp.image_size) for _ in "AB")
        D_A, D_B = (Discriminator(hp.d_channels, image_size=hp.image_size) for _ in "AB")
    for name, model in dict(G_AB=G_AB, G_BA=G_BA, D_A=D_A, D_B=D_B).items():
        if name in initial_weights:
            copy_weights(initial_weights[name], model, family("cyclegan"))
    optimizer_G, optimizer_D = (keras.optimizers.Adam(learning_rate=hp.learning_rate, beta_1=hp.beta_1,
                                                      epsilon=hp.adam_epsilon) for _ in "GD")
    optimizer_G.build(G_AB.trainable_variables + G_BA.trainable_variables)  # one Adam over both generators
    optimizer_D.build(D_A.trainable_variables + D_B.trainable_variables)

    @tf.function
    def tf_train_step(index_a, index_b):
        return train_step((G_AB, G_BA), (D_A, D_B), (optimizer_G, optimizer_D), tf.gather(train_a_tf, index_a),
                          tf.gather(train_b_tf, index_b), hp.cycle_weight, hp.identity_weight)

    def tf_translate(generator, images):
        images = np.ascontiguousarray(np.asarray(images).transpose(0, 2, 3, 1))
        out = np.concatenate([generator(images[i : i + 500], training=False).numpy()
                              for i in range(0, len(images), 500)])
        return out.transpose(0, 3, 1, 2)  # back to channels first, as the page keeps images

    clock = StepClock()
    with tf.device(tf_dev):
        results["tensorflow"] = dict(
            train(tf_train_step, clock), clock=clock,
            device=tf_dev, translate=lambda name, images, g=dict(G_AB=G_AB, G_BA=G_BA): tf_translate(g[name], images))

# %%
# Results
# -------
# Every test sneaker translated into an ankle boot and back, and every test
# ankle boot into a sneaker and back, by each twin. The judge's rate of seeing
# the *target* class in the translations (the target: at least 80 % in each
# direction), and the cycle-consistency error: the mean absolute difference
# between an image and its round trip, in the :math:`[-1, 1]` pixel scale the
# networks work in. Removing a boot's shaft is the harder direction, and where
# it ends depends on the initial weights and moves from one snapshot of the
# game to the next: ``benchmarks/gan-cyclegan-cpu.md`` measures it over three
# seeds on the validation split and after 600 and 800 steps.
for name, r in results.items():
    fake_b, fake_a = r["translate"]("G_AB", test_x_a), r["translate"]("G_BA", test_x_b)
    r["cycle_a"], r["cycle_b"] = r["translate"]("G_BA", fake_b), r["translate"]("G_AB", fake_a)
    r["fake_b"], r["fake_a"] = fake_b, fake_a
    r["rate_ab"] = judge.label_accuracy(to_unit(fake_b), np.full(len(fake_b), label_b))
    r["rate_ba"] = judge.label_accuracy(to_unit(fake_a), np.full(len(fake_a), label_a))
    r["error_aba"] = float(np.abs(r["cycle_a"] - test_x_a).mean())
    r["error_bab"] = float(np.abs(r["cycle_b"] - test_x_b).mean())
    print(f"{torchflow.frameworks.label(name)}: {r['rate_ab']:.1%} of the translated {hp.domains[0].lower()}s "
          f"judged '{hp.domains[1]}', {r['rate_ba']:.1%} of the translated {hp.domains[1].lower()}s judged "
          f"'{hp.domains[0]}'; cycle L1 error {r['error_aba']:.3f} (A→B→A) and {r['error_bab']:.3f} (B→A→B)")
KEYS = {RATE_AB: "rate_ab", RATE_BA: "rate_ba", CYCLE_ABA: "error_aba", CYCLE_BAB: "error_bab"}
gap = 0.0
if len(results) == 2:
    pairs = {metric: [r[key] for r in results.values()] for metric, key in KEYS.items()}
    gaps = {metric: abs(a - b) / np.mean([a, b]) if a != b else 0.0 for metric, (a, b) in pairs.items()}
    gap = max(gaps.values())
    print("the twins differ by " + ", ".join(f"{g:.1%} ({metric})" for metric, g in gaps.items())
          + " of their mean")
run.record_all(results, lambda r: {**{metric: r[key] for metric, key in KEYS.items()},
                                   **({GAP: gap} if len(results) == 2 else {}), CYCLE_FALL: r["cycle_fall"]})
run.verdict()

# %%
# There and back: A→B→A
# ---------------------
# Eight test sneakers (top row), their translations into ankle boots (middle)
# and those translated back (bottom), for each twin. The twins started from the
# same weights; where their translations differ, float32 rounding has grown
# through training.
SHOW = 8


def cycle_grid(r, real, fake, back):
    return np.concatenate([to_unit(real[:SHOW]), to_unit(r[fake][:SHOW]), to_unit(r[back][:SHOW])])


def cycle_figure(real, fake, back, title, labels):
    """Three rows of ``SHOW`` images per twin: the originals, their translations, the round trips."""
    fig = side_by_side({name: cycle_grid(r, real, fake, back) for name, r in results.items()}, ncols=SHOW,
                       suptitle=title, row_labels=labels)
    fig.set_size_inches(5.5 * max(len(results), 1), 3.2)
    fig.tight_layout()
    return fig


fig = cycle_figure(test_x_a, "fake_b", "cycle_a", f"{hp.domains[0]} → {hp.domains[1]} → {hp.domains[0]} (test images)",
                   ["A", "G_AB(A)", "G_BA(G_AB(A))"])

# %%
# There and back: B→A→B
# ---------------------
# Eight test ankle boots, their translations into sneakers, and back.
fig = cycle_figure(test_x_b, "fake_a", "cycle_b", f"{hp.domains[1]} → {hp.domains[0]} → {hp.domains[1]} (test images)",
                   ["B", "G_BA(B)", "G_AB(G_BA(B))"])

# %%
# The losses
# ----------
# Left: the generators' two adversarial losses (summed) and the discriminators'
# losses (summed), averaged over ``log_every`` steps; in the least-squares game a
# discriminator that cannot tell real from translated patches scores 1/2 on
# both and has a loss of 1/4 (1/2 for the two). Right: the cycle-consistency
# loss (and the identity loss, when it is weighted), summed over the two
# directions, before its weight.
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for keys, ax, ylabel in ((("adversarial", "discriminators"), axes[0], "least-squares loss"),
                         (("cycle", "identity")[: 2 if hp.identity_weight else 1], axes[1], "L1 loss")):
    for key, style in zip(keys, ("-", "--")):
        plot_curves({f"{name} {key}": r["history"][key] for name, r in results.items()}, ax=ax,
                    x={f"{name} {key}": r["history"]["steps"] for name, r in results.items()},
                    xlabel="training step", ylabel=ylabel)
        for line in ax.lines[-len(results):]:
            line.set_linestyle(style)
    ax.legend()
fig.tight_layout()

# %%
# Comparison
# ----------
# The twins share the architecture, the initial weights, the instance norm, the
# losses and their weights, the optimiser settings and the batches. Their
# scores, and the time per training step:
for name, r in results.items():
    print(f"{torchflow.frameworks.label(name)}: judged as the target {r['rate_ab']:.1%} (A→B) and "
          f"{r['rate_ba']:.1%} (B→A); cycle L1 {r['error_aba']:.3f} and {r['error_bab']:.3f}; "
          f"{1000 * r['clock'].seconds_per_step:.1f} ms per step")
record = run.finish()
