"""
InfoGAN
=======

A GAN's noise :math:`z` is free to encode anything, in any tangled way: nothing
makes one coordinate mean "the class" and another "the width". InfoGAN (Chen et
al., 2016) splits the generator's input into noise :math:`z` and a *code*
:math:`c`, and rewards the generator when the code can be read back from the
image: it maximises the mutual information :math:`I(c; G(z, c))`. Nobody tells
it what the code should mean; a categorical code of ten values *may* come to
stand for the kind of garment, or for anything else that a network can read
back from the image, and this page measures which.

We train the PyTorch and TensorFlow twins, vary each code while the noise stays
fixed, and ask the book's judge how well the categorical code lines up with the
ten classes that it never saw.
"""

# sphinx_gallery_thumbnail_number = 2

# %%
# The mutual-information bound
# ----------------------------
# :math:`I(c; x) = H(c) - H(c \mid x)` with :math:`x = G(z, c)` needs the
# posterior :math:`P(c \mid x)`, which is out of reach. For *any* distribution
# :math:`Q(c \mid x)`,
#
# .. math::
#
#    I(c; x) = H(c) + \mathbb{E}_{x}\,\mathbb{E}_{c \sim P(c\mid x)}\big[\log P(c \mid x)\big]
#    = H(c) + \mathbb{E}_{c, x}\big[\log Q(c \mid x)\big]
#      + \mathbb{E}_{x}\big[\mathrm{KL}\big(P(\cdot \mid x)\,\|\,Q(\cdot \mid x)\big)\big]
#    \;\ge\; H(c) + \mathbb{E}_{c \sim p(c),\, z,\, x = G(z, c)}\big[\log Q(c \mid x)\big] =: L_I(G, Q),
#
# and the expectation can be estimated by sampling: draw :math:`c`, generate
# :math:`x`, score :math:`\log Q(c \mid x)`. Maximising :math:`L_I` over
# :math:`Q` closes the gap, the KL term, so :math:`Q` is pushed towards the
# posterior :math:`P(c \mid x)`; maximising it over :math:`G` raises the
# information itself. A network :math:`Q` therefore learns to recognise the code
# from the image, and the generator learns to draw images from which it can be
# recognised. :math:`H(c)` is a constant (:math:`\log 10` nats for a uniform
# categorical code), so the loss is :math:`-\mathbb{E}[\log Q(c \mid x)]`: a
# cross-entropy for the categorical code, and for a continuous code with a
# Gaussian :math:`Q` of unit variance, half the squared error (up to a constant).
# Both players add :math:`\lambda` times it to their GAN loss, :math:`Q` on
# the discriminator's side (it shares D's hidden layer, below):
#
# .. math::
#
#    \min_{G}\; \mathrm{BCE}\big(D(G(z, c)), 1\big) - \lambda\, L_I(G, Q), \qquad
#    \min_{D, Q}\; \mathrm{BCE}\big(D(x), 1\big) + \mathrm{BCE}\big(D(G(z, c)), 0\big) - \lambda\, L_I(G, Q).
#
# **The code's distribution.** The notes draw :math:`c` from
# :math:`\mathcal{N}(1, 1)`; we use the InfoGAN paper's codes instead: a
# categorical code :math:`c_1 \sim \mathrm{Cat}(K = 10, p = 1/10)`, given to the
# generator one-hot, and continuous codes :math:`c_2, c_3 \sim U(-1, 1)`. A
# normal vector of ten values is not a categorical variable: it has no ten
# discrete states to be matched with ten classes, and Q's softmax, a
# distribution over ten *categories*, would not be its posterior. The uniform
# categorical has the largest entropy a ten-state code can have,
# :math:`\log 10`, so the bound has the most information to reward.
#
# Dimension flow (the notes' sizes, with the two continuous codes added)::
#
#     G: [z (16) ~ U(-1, 1), one-hot c1 (10), c2, c3 (2)] (B, 28) -> relu (B, 256) -> sigmoid (B, 784)
#     D: x (B, 784) -> relu (B, 128) -> sigmoid (B, 1)
#     Q:                  D's relu (B, 128) -> softmax (B, 10): Q(c1 | x);  -> (B, 2): the mean of c2, c3
#
# **Q shares D's hidden layer.** The notes give Q a hidden layer of its own
# (784 → 128); here, as in the InfoGAN paper, Q is two heads on the
# discriminator's hidden layer (``shared_body=True``): Q's own weights are the
# heads only, and the information loss trains them *and* D's hidden layer in
# D's step. Three weight lists, two optimisers: D's and Q's lists for D's loss
# plus the information loss, G's list alone for G's. Why the departure: with a
# Q of its own, the generator learnt to write its code into the images in a
# form that Q read back perfectly but that had little to do with the kind of
# garment (matching near chance on the validation split,
# ``benchmarks/gan-infogan.md``); a Q that reads D's features, which D's loss
# shapes to tell real garments from fakes, is pushed towards differences that
# real garments show.
#
# Hyperparameters, declared once
# ------------------------------
# Chosen on a validation split (55,000 training images to train, 5,000 to
# score, no test image; ``benchmarks/gan_infogan_choose.py``, the variants'
# matching in ``benchmarks/gan-infogan.md``): Q sharing D's layer, the
# paper's learning rates (2e-4 for D and Q, 1e-3 for G) and a weight
# :math:`\lambda = 2` on the categorical code, larger than the paper's 1 (on
# the validation split it did best of 1, 2, 5 and 10 at 4,000 steps, though by
# less than one run moves between evaluations). The number of steps is what
# the ``cpu`` budget affords for both twins.
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_images
from torchflow.judge import Judge
from torchflow.metrics import confusion_matrix, matching_accuracy
from torchflow.plot import plot_confusion, plot_curves, plot_styled_curves, side_by_side
from torchflow.training import StepClock, batch_indices, fixed_uniform

run = torchflow.Run()
hp = SimpleNamespace(
    noise_dim=16,
    num_categories=10,
    num_continuous=2,
    hidden_dim=128,
    generator_hidden_dim=256,
    image_dim=784,
    shared_body=True,  # Q: two heads on D's hidden layer
    batch_size=128,
    d_learning_rate=2e-4,  # D and Q's heads
    g_learning_rate=1e-3,
    beta_1=0.5,
    adam_epsilon=1e-8,
    categorical_weight=2.0,  # lambda, categorical code
    continuous_weight=1.0,  # lambda, continuous codes
    steps=torchflow.scaled(smoke=40, cpu=4_000, full=30_000),
    log_every=torchflow.scaled(smoke=10, cpu=100, full=500),
    snapshots=torchflow.scaled(smoke=(20, 40), cpu=(2_000, 4_000), full=(6_000, 30_000)),
    samples_per_code=torchflow.scaled(smoke=20, cpu=200, full=500),  # scored: 10 times this many images
    train_size=torchflow.scaled(smoke=2_000, cpu=None, full=None),
    seed=0,
)
MATCHING, FRECHET, RATIO = ("code-to-class matching accuracy", "Fréchet distance (judge features)",
                            "Fréchet distance / untrained generator's")
run.expect(MATCHING, at_least=torchflow.scaled(smoke=None, cpu=0.50, full=0.50))
run.expect(RATIO, at_most=torchflow.scaled(smoke=None, cpu=1 / 3, full=1 / 3))
# The smoke run's check of the step itself: after 40 steps Q reads the categorical code back better than
# chance (log 10 - its cross-entropy > 0; a step that does not train Q, or trains it on the wrong images,
# stays near 0), and D scores real images above generated ones.
BOUND, GAP = ("information bound on the categorical code at the last step (nats)",
              "D(x) - D(G(z, c)) at the last step (1,000 test images, 1,000 fixed codes)")
run.expect(BOUND, at_least=torchflow.scaled(smoke=0.1, cpu=None, full=None))
run.expect(GAP, at_least=torchflow.scaled(smoke=0.05, cpu=None, full=None))
hp

# %%
# The dimension flow, traced from both twins (G, then D, then Q reading G's images):
from torchflow.flow import draw_flows, trace_twins

model_kwargs = dict(noise_dim=hp.noise_dim, num_categories=hp.num_categories, num_continuous=hp.num_continuous,
                    hidden_dim=hp.hidden_dim, generator_hidden_dim=hp.generator_hidden_dim, image_dim=hp.image_dim,
                    shared_body=hp.shared_body)
code_dim = hp.num_categories + hp.num_continuous
flows = trace_twins("gan", "InfoGAN", np.zeros((2, hp.image_dim), np.float32), np.zeros((2, hp.noise_dim), np.float32),
                    np.zeros((2, code_dim), np.float32), frameworks=torchflow.available_frameworks(),
                    model_kwargs=model_kwargs)
fig = draw_flows(flows, title="InfoGAN: generator, discriminator, and Q reading the code back")

# %%
# Data and the judge
# ------------------
# InfoGAN trains without labels; only the judge, trained once on the labelled
# training set, knows the classes.
train = load_images("fashion-mnist", "train").take(hp.train_size)
test = load_images("fashion-mnist", "test")
run.use_data(train, test)
judge = Judge.load("fashion-mnist")
print(f"judge: test accuracy {judge.test_accuracy:.1%}; trained on {judge.trained_on}")
classes = train.classes
train_images, test_images = ((s.images.reshape(-1, 784) / 255.0).astype(np.float32) for s in (train, test))

# %%
# Shared draws: the noise and codes of every training step come from one seeded
# generator, so both twins see the same; ``scored`` holds ``samples_per_code``
# noise vectors and continuous codes for each value of the categorical code.
# The grids fix the noise and vary the codes: the categorical code along the
# columns, one continuous code along the rows (from -1 to 1), the other at 0.
count = hp.num_categories * hp.samples_per_code
scored = (fixed_uniform((count, hp.noise_dim), seed=3), np.repeat(np.arange(hp.num_categories), hp.samples_per_code),
          fixed_uniform((count, hp.num_continuous), seed=5))
held_out = min(count, len(test_images) // 2)  # the embedded subset has 1,000 test images
reference, other_real = test_images[:held_out], test_images[held_out : 2 * held_out]
values = np.linspace(-1, 1, 7)
grid_categories = np.tile(np.arange(hp.num_categories), len(values))
grids = []
for k in range(hp.num_continuous):
    continuous = np.zeros((len(grid_categories), hp.num_continuous), np.float32)
    continuous[:, k] = np.repeat(values, hp.num_categories)
    grids.append((np.repeat(fixed_uniform((1, hp.noise_dim), seed=2), len(grid_categories), 0), grid_categories,
                  continuous))
probe = (test_images[-1000:], fixed_uniform((1000, hp.noise_dim), seed=4), np.arange(1000) % hp.num_categories,
         fixed_uniform((1000, hp.num_continuous), seed=6))
results = {}


def scores(generate):
    """(matching accuracy, Fréchet distance, the judge's predictions) of the scored samples."""
    samples = generate(*scored)
    predictions = judge.predict(samples)
    accuracy, _ = matching_accuracy(scored[1], predictions, hp.num_categories)
    return accuracy, judge.frechet_distance(samples, reference), predictions


def train(step_fn, generate, discriminate, clock):
    """``hp.steps`` steps of (D step, G-and-Q step); the curves, and the scores at each snapshot."""
    rng = np.random.default_rng(hp.seed + 1)
    history = dict(steps=[], d_loss=[], g_loss=[], categorical=[], continuous=[], d_real=[], d_fake=[])
    snapshot_scores, totals = {}, np.zeros(4)
    middle = len(values) // 2  # the grid's row with both continuous codes at 0
    along = {0: generate(*(a[middle * hp.num_categories : (middle + 1) * hp.num_categories] for a in grids[0]))}
    for step, index in enumerate(batch_indices(len(train_images), hp.batch_size, hp.steps, hp.seed), 1):
        noise = rng.uniform(-1, 1, (hp.batch_size, hp.noise_dim)).astype(np.float32)
        categories = rng.integers(0, hp.num_categories, hp.batch_size)
        continuous = rng.uniform(-1, 1, (hp.batch_size, hp.num_continuous)).astype(np.float32)
        with clock:
            totals += step_fn(index, noise, categories, continuous)
        if step % hp.log_every == 0:
            real, *fake_draws = probe
            for key, value in zip(history, (step, *(totals / hp.log_every), discriminate(real).mean(),
                                            discriminate(generate(*fake_draws)).mean())):
                history[key].append(value)
            totals[:] = 0
        if step in hp.snapshots:
            snapshot_scores[step] = scores(generate)[:2]
            along[step] = generate(*(a[middle * hp.num_categories : (middle + 1) * hp.num_categories] for a in grids[0]))
            print(f"step {step}: D loss {history['d_loss'][-1]:.3f}, G loss {history['g_loss'][-1]:.3f}, "
                  f"Q's cross-entropy {history['categorical'][-1]:.3f} nats, D(x) {history['d_real'][-1]:.2f}, "
                  f"D(G(z)) {history['d_fake'][-1]:.2f}, matching {snapshot_scores[step][0]:.1%}, "
                  f"Fréchet distance {snapshot_scores[step][1]:.1f}")
    return dict(history=history, scores=snapshot_scores, along=along)


# %%
# The model and its training step
# --------------------------------
# :class:`~torchflow.pt.gan.InfoGAN` adds Q's weights, the ``q_weights`` list
# (with ``shared_body`` the two heads; ``q_hidden`` is then D's hidden layer),
# and the information loss; ``infogan_train_step`` (below the model in each
# tab) is one step of training, which the page's loops, the parity tests and
# the study that chose the recipe all call:
#
# .. tab-set::
#
#    .. tab-item:: PyTorch
#
#       .. literalinclude:: /../torchflow/pt/gan.py
#          :language: python
#          :pyobject: InfoGAN
#
#       .. literalinclude:: /../torchflow/pt/gan.py
#          :language: python
#          :pyobject: infogan_train_step
#
#    .. tab-item:: TensorFlow
#
#       .. literalinclude:: /../torchflow/tf/gan.py
#          :language: python
#          :pyobject: InfoGAN
#
#       .. literalinclude:: /../torchflow/tf/gan.py
#          :language: python
#          :pyobject: infogan_train_step
#
# With ``shared_body`` the D step is the GAN's plus the information loss on
# the same (detached) fakes, weighted by the two :math:`\lambda`; its optimiser
# holds D's and Q's weights. The G step generates once and scores the images
# with D (the adversarial loss) and with Q (the information loss, with the same
# weights); its optimiser holds G's weights only.
#
# Training the PyTorch twin
# -------------------------
# Two optimisers, D's and Q's lists for one, G's for the other, and the loop
# calling ``infogan_train_step``. The TensorFlow twin will start from this
# twin's initial weights (``initial``, an untrained copy).
initial = None
if run.trains("torch"):
    import torch

    from torchflow.device import torch_device
    from torchflow.pt.gan import InfoGAN, infogan_train_step

    torch.manual_seed(hp.seed)
    torch_dev = torch_device()
    train_x = torch.as_tensor(train_images, device=torch_dev)
    torch_model = InfoGAN(**model_kwargs, seed=hp.seed).to(torch_dev)
    initial = InfoGAN(**model_kwargs, seed=hp.seed)  # the same seed: the same initial weights
    adam = dict(betas=(hp.beta_1, 0.999), eps=hp.adam_epsilon)
    dq_optimizer = torch.optim.Adam(torch_model.discriminator_weights + torch_model.q_weights,
                                    lr=hp.d_learning_rate, **adam)
    g_optimizer = torch.optim.Adam(torch_model.generator_weights, lr=hp.g_learning_rate, **adam)

    def step(index, noise, categories, continuous):
        z, c1, c23 = (torch.as_tensor(a, device=torch_dev) for a in (noise, categories, continuous))
        losses = infogan_train_step(torch_model, (dq_optimizer, g_optimizer), train_x[index], z, c1, c23,
                                    hp.categorical_weight, hp.continuous_weight)
        return [loss.item() for loss in losses.values()]  # D, G's adversarial, categorical, continuous

    @torch.no_grad()
    def generate(noise, categories, continuous):
        z, c1, c23 = (torch.as_tensor(a, device=torch_dev) for a in (noise, categories, continuous))
        return torch_model.generate(z, torch_model.code(c1, c23)).cpu().numpy()

    @torch.no_grad()
    def discriminate(images):
        return torch_model.discriminate(torch.as_tensor(images, device=torch_dev)).cpu().numpy()

    untrained = generate(*scored)
    clock = StepClock()
    results["torch"] = dict(train(step, generate, discriminate, clock), clock=clock, device=str(torch_dev),
                            untrained=untrained, generate=generate)

# %%
# Training the TensorFlow twin
# ----------------------------
# The same two steps, from the PyTorch twin's initial weights (copied with
# :func:`torchflow.convert.copy_weights`) and on the same batches, noise and
# codes: the twins are one experiment, apart from float rounding. The first
# optimiser's variables are D's and Q's lists, the second's G's.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.convert import copy_weights
    from torchflow.device import tf_device
    from torchflow.families import family
    from torchflow.tf.gan import InfoGAN, infogan_train_step

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()
    with tf.device(tf_dev):
        train_x = tf.constant(train_images)
        tf_model = InfoGAN(**model_kwargs, seed=hp.seed)
    if initial is not None:
        copy_weights(initial, tf_model, family("gan"))
    dq_optimizer, g_optimizer = (keras.optimizers.Adam(learning_rate=lr, beta_1=hp.beta_1, epsilon=hp.adam_epsilon)
                                 for lr in (hp.d_learning_rate, hp.g_learning_rate))
    dq_vars, g_vars = tf_model.discriminator_weights + tf_model.q_weights, tf_model.generator_weights
    dq_optimizer.build(dq_vars)
    g_optimizer.build(g_vars)

    @tf.function(jit_compile=True)
    def graph_step(index, noise, categories, continuous):
        losses = infogan_train_step(tf_model, ((dq_optimizer, dq_vars), (g_optimizer, g_vars)),
                                    tf.gather(train_x, index), noise, categories, continuous,
                                    hp.categorical_weight, hp.continuous_weight)
        return tf.stack(list(losses.values()))  # D, G's adversarial, categorical, continuous

    def step(index, noise, categories, continuous):
        return graph_step(index, noise, categories, continuous).numpy()

    def generate(noise, categories, continuous):
        return tf_model.generate(tf.constant(noise), tf_model.code(tf.constant(categories),
                                                                   tf.constant(continuous))).numpy()

    def discriminate(images):
        return tf_model.discriminate(tf.constant(images)).numpy()

    untrained = generate(*scored)
    clock = StepClock()
    with tf.device(tf_dev):
        results["tensorflow"] = dict(train(step, generate, discriminate, clock), clock=clock, device=tf_dev,
                                     untrained=untrained, generate=generate)

# %%
# Results
# -------
# For each value of the categorical code, ``samples_per_code`` images (fresh
# noise and continuous codes) are classified by the judge; the ten codes are
# then matched one-to-one with the ten classes so that the most images agree
# (the Hungarian method, :func:`torchflow.metrics.matching_accuracy`), and the
# fraction that agree is the matching accuracy. A code that ignored the class
# would score about 10 % plus what the matching can pick out of noise. The
# Fréchet distance is on the scale of the untrained generator and of real images.
for name, r in results.items():
    r["matching"], r["frechet"], r["predictions"] = scores(r["generate"])
    r["scale"] = judge.frechet_scale(reference, other_real, r["untrained"])
    _, r["assignment"] = matching_accuracy(scored[1], r["predictions"], hp.num_categories)
    print(f"{torchflow.frameworks.label(name)}: codes matched to classes {r['matching']:.1%}; Fréchet distance "
          f"{r['frechet']:.1f} (untrained generator {r['scale']['untrained']:.1f}, real test images "
          f"{r['scale']['real']:.2f}; ratio to untrained {r['frechet'] / r['scale']['untrained']:.3f})")
run.record_all(results, lambda r: {MATCHING: r["matching"], FRECHET: r["frechet"],
                                   RATIO: r["frechet"] / r["scale"]["untrained"],
                                   BOUND: np.log(hp.num_categories) - r["history"]["categorical"][-1],
                                   GAP: r["history"]["d_real"][-1] - r["history"]["d_fake"][-1]})
run.verdict()

# %%
# Varying the categorical code
# ----------------------------
# One noise vector; the categorical code :math:`c_1` changes along the columns
# (code 0 on the left; the line below names the class each code was matched
# with), the first continuous code :math:`c_2` along the rows, from -1 (top)
# to 1, the other at 0.
for name, r in results.items():
    print(f"{torchflow.frameworks.label(name)}: code → class: "
          + ", ".join(f"{c}→{classes[k]}" for c, k in enumerate(r["assignment"])))
fig = side_by_side({name: r["generate"](*grids[0]).reshape(-1, 28, 28) for name, r in results.items()},
                   ncols=hp.num_categories, row_labels=[f"c2 = {v:+.2f}" for v in values],
                   suptitle="categorical code across the columns, continuous code c2 down the rows")

# %%
# The same noise and the ten categorical codes (continuous codes at 0) before
# training and at each snapshot, one row each:
fig = side_by_side({name: np.concatenate(list(r["along"].values())).reshape(-1, 28, 28) for name, r in results.items()},
                   ncols=hp.num_categories, row_labels=[f"step {s}" for s in (0, *hp.snapshots)],
                   suptitle="the ten categorical codes along training")

# %%
# Varying the other continuous code
# ---------------------------------
# The same, with :math:`c_3` along the rows and :math:`c_2 = 0`. Nothing tells
# the model what a continuous code should do; whatever it controls (width,
# slant, brightness) is what made it easiest for Q to read back.
fig = side_by_side({name: r["generate"](*grids[1]).reshape(-1, 28, 28) for name, r in results.items()},
                   ncols=hp.num_categories, row_labels=[f"c3 = {v:+.2f}" for v in values],
                   suptitle="categorical code across the columns, continuous code c3 down the rows")

# %%
# Which classes do the codes become?
# ----------------------------------
# Rows: the categorical code, reordered so that each code sits on the row of the
# class it was matched with; columns: the judge's class for the images drawn
# with it. A bright diagonal is a code that became a class; a row spread over
# several columns is a code that mixes classes (several kinds of tops, for instance).
fig, axes = plt.subplots(1, max(len(results), 1), figsize=(4.8 * max(len(results), 1), 4.8), squeeze=False)
for ax, (name, r) in zip(axes[0], results.items()):
    matched = r["assignment"][scored[1]]  # each image's code, renamed by the class it was matched with
    plot_confusion(confusion_matrix(matched, r["predictions"], hp.num_categories), classes, ax=ax,
                   title=f"{torchflow.frameworks.label(name)}: {r['matching']:.1%}")
    ax.set_ylabel("code (named by its matched class)")
    ax.set_xlabel("judge's class")
fig.tight_layout()

# %%
# Losses, the discriminator's outputs and the information bound
# --------------------------------------------------------------
# Left: D loss (solid) and G's adversarial loss (dashed). Middle: :math:`D(x)`
# (solid) and :math:`D(G(z, c))` (dashed). Right: the lower bound
# :math:`L_I = \log 10 - \text{cross-entropy}` on the categorical code, in nats
# (at most :math:`\log 10 \approx 2.30`, reached when Q reads every code back
# with certainty). Compare the bound with the matching accuracy above: the
# bound rewards *any* code that Q can read back from the image, not a code
# that means the kind of garment: the bound can be near :math:`\log 10` while
# the matching accuracy is low, the generator writing its code into the images
# in a form that Q reads reliably but that the judge does not see as a class
# (what a Q with a hidden layer of its own did; ``benchmarks/gan-infogan.md``).
fig, (ax_loss, ax_d, ax_info) = plt.subplots(1, 3, figsize=(15, 4))
histories = {name: r["history"] for name, r in results.items()}
plot_styled_curves(histories, ("d_loss", "g_loss"), ax=ax_loss, ylabel="loss")
plot_styled_curves(histories, ("d_real", "d_fake"), ax=ax_d, ylabel="mean output of D")
plot_curves({name: np.log(hp.num_categories) - np.array(r["history"]["categorical"]) for name, r in results.items()},
            ax=ax_info, x={name: r["history"]["steps"] for name, r in results.items()}, xlabel="optimiser step",
            ylabel="L_I, categorical code (nats)")
ax_info.axhline(np.log(hp.num_categories), color="grey", lw=0.8)
fig.tight_layout()
for name, r in results.items():
    bound = np.log(hp.num_categories) - np.mean(r["history"]["categorical"][-5:])
    print(f"{torchflow.frameworks.label(name)}: information bound on the categorical code over the last "
          f"{5 * hp.log_every} steps {bound:.3f} nats of {np.log(hp.num_categories):.3f}")

# %%
# Comparison
# ----------
for name, r in results.items():
    print(f"{torchflow.frameworks.label(name)}: matching {r['matching']:.1%}, Fréchet distance {r['frechet']:.1f}, "
          f"{1000 * r['clock'].seconds_per_step:.2f} ms per step")
if len(results) == 2:
    for key, what in (("matching", "matching accuracy"), ("frechet", "Fréchet distance")):
        a, b = (results[k][key] for k in ("torch", "tensorflow"))
        print(f"relative gap between the twins, {what}: {abs(a - b) / max(a, b):.1%} (of the larger)")
record = run.finish()
