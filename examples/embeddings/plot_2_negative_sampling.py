"""
Skip-gram with a sampled loss: NCE and negative sampling
========================================================

The previous page trained skip-gram with a full softmax: every step scores
*every* word of the vocabulary for every example, a (batch, dim) × (dim, V)
product, and normalises over all V scores. Most of that work goes to words that
have nothing to do with the example. A **sampled loss** scores only the true
context word and a handful of *noise* words drawn at random, and turns the
prediction into a binary question: is this the real context word, or noise?

This page trains the same skip-gram twice, in PyTorch and TensorFlow, with
**noise-contrastive estimation** (NCE): TensorFlow has it built in
(``tf.nn.nce_loss``), PyTorch does not, so the PyTorch twin writes the same
objective out, and both are handed the same noise words. First with embeddings
of dimension 2, to plot them as the notes do, then with 64 dimensions, whose
nearest neighbours are checked against the corpus; last, the time per step of
the sampled loss against the full softmax at this page's vocabulary.

**Departures from the notes.** The notes train on a toy text of 35 words with
Adam at a learning rate of 0.1 and 15 noise words. Here the text
is Shakespeare (about 200,000 words, a vocabulary of the 3,000 most frequent),
the noise is 64 words per step, and the learning rates were chosen on a
validation split.
"""

# sphinx_gallery_thumbnail_number = 2

# %%
# NCE, written out
# ----------------
# For an input word with vector :math:`e` and a candidate context word
# :math:`w` with output vector :math:`u_w` and bias :math:`b_w`, NCE uses the
# logit
#
# .. math::
#
#    s(w) = e^\top u_w + b_w - \log\big(k\,Q(w)\big),
#
# where :math:`Q` is the noise distribution and :math:`k` the number of noise
# words drawn per step. The loss is the logistic loss of telling the true word
# :math:`c` from the :math:`k` noise words :math:`n_1 \dots n_k`:
#
# .. math::
#
#    \ell = -\log \sigma\big(s(c)\big) - \sum_{j=1}^{k} \log\big(1 - \sigma(s(n_j))\big).
#
# Subtracting :math:`\log kQ(w)` is what makes NCE an estimator of the softmax
# model: at its optimum (with enough noise words), :math:`e^\top u_w + b_w`
# becomes the log-probability of :math:`w` given the input word, without the sum
# over the vocabulary.
#
# **What each twin computes.** ``tf.nn.nce_loss`` computes exactly this, with
# one set of :math:`k` noise words shared by the whole batch, drawn by default
# from a *log-uniform* (Zipfian) distribution
# :math:`Q(w) = \log\frac{w + 2}{w + 1} / \log(V + 1)`, which assumes that word
# ids are sorted by decreasing frequency (they are here: the vocabulary numbers
# words by frequency); accidental hits (the true word drawn as noise) are kept.
# PyTorch has no such function; ``torchflow.pt.nce`` writes the formula out.
# Both twins receive the same noise words, drawn once per step by
# :func:`torchflow.training.log_uniform_negatives` (TensorFlow's sampler, with
# replacement, in NumPy) and passed to ``tf.nn.nce_loss`` through its
# ``sampled_values`` argument: the twins compute the same number, which
# ``tests/test_parity_nce.py`` checks against a hand computation and over 60
# training steps.
#
# **NCE is not word2vec's negative sampling.** Negative sampling (Mikolov et
# al., 2013) uses the plain score :math:`e^\top u_w` (no bias, no
# :math:`-\log kQ(w)`), draws its noise from the unigram distribution raised to
# the power 3/4, and uses 5 to 20 noise words. It is NCE with :math:`kQ(w)`
# replaced by 1 for every word, and so no longer estimates the softmax: its
# scores approximate the pointwise mutual information of word and context
# shifted by :math:`\log k` (Levy and Goldberg, 2014). That is fine for
# embeddings and wrong for a language model that needs probabilities. This page
# computes NCE in both twins, the objective TensorFlow provides.
#
# **The other way round the softmax.** The notes also name the *hierarchical
# softmax*: the words are the leaves of a binary tree (word2vec uses a Huffman
# tree, so frequent words have short paths), and the probability of a word is
# the product of :math:`\log_2 V` binary decisions along its path, each a
# sigmoid of the input vector with one vector per inner node. It computes a
# normalised probability in :math:`O(\log V)` instead of :math:`O(V)`; it is
# not trained on this page.
import time
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_shakespeare
from torchflow.data.words import skipgram_examples, split_stream, tokenize
from torchflow.metrics import nearest_neighbours, neighbour_agreement, ppmi_vectors
from torchflow.plot import FRAMEWORK_COLOURS, plot_curves
from torchflow.training import StepClock, batch_indices, batched_mean, log_uniform_expected, log_uniform_negatives

# %%
# Hyperparameters, declared once
# ------------------------------
# Both twins read the same settings; the learning rates were chosen on the
# validation split's NCE loss among 0.003, 0.01 and 0.03
# (``benchmarks/embeddings-lr.md``).
run = torchflow.Run()
hp = SimpleNamespace(
    vocab_size=3_000,
    window=2,
    num_sampled=64,  # noise words per step, shared by the batch
    batch_size=128,
    adam_epsilon=1e-8,
    plot_dim=2,  # the first model: embeddings to plot
    plot_words=60,
    plot_learning_rate=3e-2,
    plot_steps=torchflow.scaled(smoke=30, cpu=1_500, full=10_000),
    embedding_dim=64,  # the second model: nearest neighbours
    learning_rate=1e-2,
    steps=torchflow.scaled(smoke=40, cpu=3_000, full=30_000),
    eval_every=torchflow.scaled(smoke=20, cpu=500, full=2_000),
    eval_size=20_000,
    timing_steps=torchflow.scaled(smoke=10, cpu=500, full=1_000),  # steps timed for each loss
    neighbours=10,
    checked_words=200,
    seed=0,
)
AGREEMENT, SPEED = "neighbour agreement", "sampled step speed-up over the full softmax"
LOSSES = ("nce_loss", "softmax_loss")  # the sampled loss and the full softmax, timed against each other
run.expect(AGREEMENT, at_least=torchflow.scaled(smoke=None, cpu=0.075, full=0.1))
run.expect(SPEED, at_least=torchflow.scaled(smoke=None, cpu=1.0, full=1.0))
# smoke: training took the validation NCE loss below the untrained model's (a step that does not learn: 1)
UNTRAINED = "validation NCE loss, fraction of the untrained model's"
run.expect(UNTRAINED, at_most=torchflow.scaled(smoke=0.9, cpu=None, full=None))
hp

# %%
# The dimension flow, traced from the twins
# -----------------------------------------
# ``activations`` traces the lookup and the full-softmax scores that the
# sampled loss avoids: with the notes' sizes (35 words, dimension 2), a batch of
# two input words becomes two 2-D vectors and 35 scores each.
from torchflow.flow import draw_flows, trace_twins

flows = trace_twins("nce", "SkipGramNCE", np.zeros(2, np.int64), frameworks=torchflow.available_frameworks(),
                    model_kwargs=dict(vocab_size=35, embedding_dim=2))
fig = draw_flows(flows, title="skip-gram: word id -> embedding -> (full softmax scores, avoided by NCE)")

# %%
# Data
# ----
# The Shakespeare text cut into words as on the previous page: 80% train, 10%
# validation, 10% test; the vocabulary is the 3,000 most frequent training
# words, the others dropped from the stream. Skip-gram pairs take every word
# within 2 positions.
corpus = load_shakespeare()
run.use_data(corpus)
vocabulary, train_ids, valid_ids, test_ids = split_stream(tokenize(corpus.text), hp.vocab_size, train=0.8, valid=0.1)
pairs = {split: skipgram_examples(ids, hp.window) for split, ids in
         (("train", train_ids), ("valid", valid_ids), ("test", test_ids))}
print(", ".join(f"{len(p[0]):,} {split} pairs" for split, p in pairs.items()) + f"; vocabulary {len(vocabulary):,}")

# %%
# The noise, drawn once for both twins
# ------------------------------------
# Every step gets its own 64 noise words (ids), with :math:`kQ` of each noise
# word and of each true context word, which the logits need. The most frequent
# words are drawn most often: here are the words of the first step's noise.
rng = np.random.default_rng(hp.seed)
longest = max(hp.steps, hp.plot_steps, hp.timing_steps)
noise = [log_uniform_negatives(hp.num_sampled, len(vocabulary), rng) for _ in range(longest)]
print("step 1 noise:", " ".join(vocabulary.decode(noise[0][0][:24])), "...")
print(f"Q of the most frequent word {vocabulary.words[0]!r}: {log_uniform_expected([0], 1, len(vocabulary))[0]:.3f}; "
      f"of the 3,000th: {log_uniform_expected([len(vocabulary) - 1], 1, len(vocabulary))[0]:.2e}")


def batches(steps):
    """(step, center ids, context ids, noise ids, kQ of the contexts, kQ of the noise), the same for both twins."""
    centers, contexts = pairs["train"]
    for step, index in enumerate(batch_indices(len(centers), hp.batch_size, steps, hp.seed), 1):
        sampled, sampled_expected = noise[step - 1]
        true_expected = log_uniform_expected(contexts[index], hp.num_sampled, len(vocabulary))
        yield step, (centers[index], contexts[index], sampled, true_expected, sampled_expected)


# the neighbour check of the previous page: held-out co-occurrence profiles of the 200 most frequent words
checked = np.arange(hp.checked_words)
reference = nearest_neighbours(ppmi_vectors(np.concatenate([valid_ids, test_ids]), len(vocabulary))[checked],
                               hp.neighbours)


def agreement(table):
    return neighbour_agreement(nearest_neighbours(np.asarray(table)[checked], hp.neighbours), reference)


def train(train_step, held_out, steps, clock):
    """``steps`` NCE steps; the training and validation curves (NCE loss, nats per pair)."""
    curve, valid_curve, losses = [], [], []
    for step, batch in batches(steps):
        with clock:
            losses.append(train_step(*batch))
        if step % hp.eval_every == 0 or step == steps:
            curve.append(np.mean(losses))
            valid_curve.append(held_out("valid"))
            losses = []
    print(f"step {steps}: NCE loss train {curve[-1]:.3f}, validation {valid_curve[-1]:.3f}")
    return curve, valid_curve


# held-out NCE loss: the validation pairs scored against a fixed noise sample
held_out_noise = log_uniform_negatives(hp.num_sampled, len(vocabulary), np.random.default_rng(hp.seed + 1))
held_out_inputs = {split: (c[: hp.eval_size], x[: hp.eval_size], held_out_noise[0],
                           log_uniform_expected(x[: hp.eval_size], hp.num_sampled, len(vocabulary)), held_out_noise[1])
                   for split, (c, x) in pairs.items()}
results, initial_weights = {}, {}

# %%
# The model
# ---------
# .. tab-set::
#
#    .. tab-item:: PyTorch
#
#       .. literalinclude:: /../torchflow/pt/nce.py
#          :language: python
#          :pyobject: SkipGramNCE
#
#    .. tab-item:: TensorFlow
#
#       .. literalinclude:: /../torchflow/tf/nce.py
#          :language: python
#          :pyobject: SkipGramNCE
#
# Training the PyTorch twin
# -------------------------
# The step is the usual one with ``model.nce_loss`` as the loss. Then the
# timing: the same number of steps of the NCE loss and of the full softmax
# (``model.softmax_loss``, the cross-entropy over all 3,000 words) on two
# fresh models, one step of each in turn, each counted by its own clock in
# CPU time (``time.process_time``: time spent waiting for a core that another
# job holds is not counted). ``fused=True`` makes Adam update each
# weight table with one kernel instead of a chain of small operations (the same
# update up to rounding; see the VAE page): Adam updates both whole tables every
# step, and unfused it costs more than the NCE loss itself.
if run.trains("torch"):
    import torch

    from torchflow.convert import torch_state
    from torchflow.device import torch_device
    from torchflow.pt.nce import SkipGramNCE

    torch_dev = torch_device()

    def make_train_step(model, optimizer, loss_name="nce_loss"):
        def train_step(*batch):
            loss = getattr(model, loss_name)(*(torch.as_tensor(a, device=torch_dev) for a in batch))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()
        return train_step

    def held_out(model):
        @torch.no_grad()
        def loss(split):
            return model.nce_loss(*(torch.as_tensor(a, device=torch_dev) for a in held_out_inputs[split])).item()
        return loss

    def softmax_cross_entropy(model, split):
        centers, contexts = (torch.as_tensor(a[: hp.eval_size], device=torch_dev) for a in pairs[split])
        with torch.no_grad():
            return batched_mean(lambda c, x: model.softmax_loss(c, x).item(), centers, contexts, batch_size=5_000)

    found = {}
    for dim, learning_rate, steps in ((hp.plot_dim, hp.plot_learning_rate, hp.plot_steps),
                                      (hp.embedding_dim, hp.learning_rate, hp.steps)):
        torch.manual_seed(hp.seed)
        model = SkipGramNCE(len(vocabulary), dim).to(torch_dev)
        initial_weights[dim] = torch_state(model)
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, eps=hp.adam_epsilon, fused=True)
        clock, evaluate = StepClock(), held_out(model)
        untrained = evaluate("valid")  # before any step
        curve, valid_curve = train(make_train_step(model, optimizer), evaluate, steps, clock)
        found[dim] = dict(curve=curve, valid_curve=valid_curve, untrained=untrained, clock=clock,
                          embeddings=model.embeddings.weight.detach().cpu().numpy(),
                          test_softmax=softmax_cross_entropy(model, "test"))

    steps, timing = {}, {}
    for loss_name in LOSSES:
        torch.manual_seed(hp.seed)
        model = SkipGramNCE(len(vocabulary), hp.embedding_dim).to(torch_dev)
        steps[loss_name] = make_train_step(model, torch.optim.Adam(model.parameters(), lr=hp.learning_rate,
                                                                   eps=hp.adam_epsilon, fused=True), loss_name)
        timing[loss_name] = StepClock(timer=time.process_time)
    for _, batch in batches(hp.timing_steps):
        for loss_name in LOSSES:  # alternating, so that a busy spell on the machine slows both alike
            with timing[loss_name]:
                steps[loss_name](*(batch if loss_name == "nce_loss" else batch[:2]))
    results["torch"] = dict(plot=found[hp.plot_dim], main=found[hp.embedding_dim], timing=timing,
                            clock=found[hp.embedding_dim]["clock"], device=str(torch_dev))

# %%
# Training the TensorFlow twin
# ----------------------------
# The same step with ``model.nce_loss``, which calls ``tf.nn.nce_loss``, compiled
# with XLA. The gradients are made dense before Adam, as on the previous page
# (Keras' Adam would otherwise square an embedding's gradient slice by slice).
# The TensorFlow twin starts from the PyTorch twin's initial weights.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.convert import copy_torch_to_keras
    from torchflow.device import tf_device
    from torchflow.tf.nce import SkipGramNCE

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()

    def make_train_step(model, optimizer, loss_name="nce_loss"):
        @tf.function(jit_compile=True)
        def train_step(*batch):
            with tf.GradientTape() as tape:
                loss = getattr(model, loss_name)(*batch)
            gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return loss
        return lambda *batch: float(train_step(*batch))

    def held_out(model):
        loss = tf.function(model.nce_loss)
        return lambda split: float(loss(*held_out_inputs[split]))

    def softmax_cross_entropy(model, split):
        centers, contexts = (a[: hp.eval_size] for a in pairs[split])
        return batched_mean(tf.function(model.softmax_loss, reduce_retracing=True), centers, contexts, batch_size=5_000)

    found = {}
    with tf.device(tf_dev):
        for dim, learning_rate, steps in ((hp.plot_dim, hp.plot_learning_rate, hp.plot_steps),
                                          (hp.embedding_dim, hp.learning_rate, hp.steps)):
            model = SkipGramNCE(len(vocabulary), dim)
            if dim in initial_weights:
                copy_torch_to_keras(initial_weights[dim], model)
            optimizer = keras.optimizers.Adam(learning_rate=learning_rate, epsilon=hp.adam_epsilon)
            clock, evaluate = StepClock(), held_out(model)
            untrained = evaluate("valid")  # before any step
            curve, valid_curve = train(make_train_step(model, optimizer), evaluate, steps, clock)
            found[dim] = dict(curve=curve, valid_curve=valid_curve, untrained=untrained, clock=clock,
                              embeddings=model.embeddings.embeddings.numpy(),
                              test_softmax=softmax_cross_entropy(model, "test"))

        steps, timing = {}, {}
        for loss_name in LOSSES:
            model = SkipGramNCE(len(vocabulary), hp.embedding_dim)
            steps[loss_name] = make_train_step(model, keras.optimizers.Adam(learning_rate=hp.learning_rate,
                                                                            epsilon=hp.adam_epsilon), loss_name)
            timing[loss_name] = StepClock(timer=time.process_time)
        for _, batch in batches(hp.timing_steps):
            for loss_name in LOSSES:
                with timing[loss_name]:
                    steps[loss_name](*(batch if loss_name == "nce_loss" else batch[:2]))
    results["tensorflow"] = dict(plot=found[hp.plot_dim], main=found[hp.embedding_dim], timing=timing,
                                 clock=found[hp.embedding_dim]["clock"], device=tf_dev)

# %%
# Results
# -------
# The neighbour agreement of the 64-dimensional embeddings (as on the previous
# page: chance is about 0.05, the target 0.075), and how many times faster one
# NCE step is than one full-softmax step (the first, compiling step left out).
for r in results.values():
    r["agreement"] = agreement(r["main"]["embeddings"])
    r["speed_up"] = r["timing"]["softmax_loss"].seconds_per_step / r["timing"]["nce_loss"].seconds_per_step
run.record_all(results, lambda r: {AGREEMENT: r["agreement"], SPEED: r["speed_up"],
                                   UNTRAINED: r["main"]["valid_curve"][-1] / r["main"]["untrained"]})
run.verdict()

# %%
random_agreement = agreement(initial_weights[hp.embedding_dim]["embeddings.weight"]) if initial_weights else None
for framework, r in results.items():
    t = r["timing"]
    print(f"{torchflow.frameworks.label(framework)}: neighbour agreement {r['agreement']:.3f}; "
          f"{1000 * t['nce_loss'].seconds_per_step:.2f} CPU ms per NCE step, "
          f"{1000 * t['softmax_loss'].seconds_per_step:.2f} CPU ms per full-softmax step "
          f"({r['speed_up']:.1f} times faster) at a vocabulary of {len(vocabulary):,}")
if random_agreement is not None:
    print(f"the initial (random) embeddings: neighbour agreement {random_agreement:.3f}")

# %%
# NCE learns the softmax model
# ----------------------------
# The NCE-trained model never computed a softmax. Its scores
# :math:`e^\top u_w + b_w`, normalised over the vocabulary after the fact, give a
# held-out cross-entropy that can be set against the uniform guess :math:`\log V`
# and against the full-softmax skip-gram of the previous page (window 1 there,
# 2 here, and a smaller vocabulary, so only roughly comparable):
for framework, r in results.items():
    ce = r["main"]["test_softmax"]
    print(f"{torchflow.frameworks.label(framework)}: test softmax cross-entropy of the NCE-trained model "
          f"{ce:.3f} nats (perplexity {np.exp(ce):.0f}), {'below' if ce < np.log(len(vocabulary)) else 'above'} "
          f"the uniform guess, {np.log(len(vocabulary)):.3f} nats")

# %%
# The embeddings in two dimensions
# --------------------------------
# The notes' figure: each of the 60 most frequent words at its 2-D embedding,
# after training with NCE. Two dimensions leave little room: look for words
# used alike (possessives, object pronouns, auxiliaries) placed close together.
fig, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 6.5), squeeze=False)
for ax, (framework, r) in zip(axes[0], results.items()):
    points = r["plot"]["embeddings"][: hp.plot_words]
    ax.scatter(*points.T, s=8, color=FRAMEWORK_COLOURS.get(framework))
    for word, (px, py) in zip(vocabulary.words, points):
        ax.annotate(word, (px, py), fontsize=7)
    ax.set_title(f"{torchflow.frameworks.label(framework)}: 2-D skip-gram embeddings (NCE)")
fig.tight_layout()

# %%
# Loss curves
# -----------
# NCE loss of the 64-dimensional model on the training batches (solid) and on
# the validation pairs against a fixed noise sample (dashed).
fig, ax = plt.subplots(figsize=(7, 4))
for kind, style in (("curve", "-"), ("valid_curve", "--")):
    curves = {f"{fw} {'train' if kind == 'curve' else 'validation'}": r["main"][kind] for fw, r in results.items()}
    plot_curves(curves, ax=ax, x={k: hp.eval_every * np.arange(1, len(v) + 1) for k, v in curves.items()},
                xlabel="optimiser step", ylabel="NCE loss (nats per pair)")
    for line in ax.lines[-len(curves):]:
        line.set_linestyle(style)
ax.legend()
fig.tight_layout()

# %%
# Nearest neighbours
# ------------------
# The five nearest words (cosine similarity of the 64-dimensional embeddings).
probe = [w for w in ("king", "lord", "love", "good", "my", "him", "will", "thou", "night", "come") if w in vocabulary]
for framework, r in results.items():
    print(f"{torchflow.frameworks.label(framework)}:")
    for word, row in zip(probe, nearest_neighbours(r["main"]["embeddings"], 5, rows=vocabulary.encode(probe))):
        print(f"    {word:>6}: {', '.join(vocabulary.decode(row))}")

# %%
# Time per step
# -------------
# CPU milliseconds per training step of each loss, each twin, at a vocabulary of
# 3,000 words and 64 dimensions. The full softmax pays for a (128, 64) × (64,
# 3,000) product and its gradient; NCE for 128 + 64 output vectors. Both still
# pay for Adam, which here updates both whole tables every step (a sparse
# optimiser would touch only the rows used), so the gain grows with the batch
# and the vocabulary. TensorFlow's output table is stored one row per word, as
# PyTorch stores it and as ``tf.nn.nce_loss`` reads it: a ``Dense`` layer's
# (64, 3,000) kernel would be transposed, a copy of the whole table, on every
# step (``benchmarks/embeddings-cpu.md`` measures what that cost).
fig, ax = plt.subplots(figsize=(6, 3))
labels = [f"{torchflow.frameworks.label(fw)}\n{name}" for fw in results for name in ("NCE", "full softmax")]
values = [1000 * r["timing"][k].seconds_per_step for r in results.values() for k in ("nce_loss", "softmax_loss")]
colours = [FRAMEWORK_COLOURS.get(fw) for fw in results for _ in range(2)]
ax.barh(labels, values, color=colours)
ax.set_xlabel("CPU ms per training step")
fig.tight_layout()

# %%
# Comparison
# ----------
# The twins started from the same weights and saw the same batches and noise.
if len(results) == 2:
    a, b = results["torch"], results["tensorflow"]
    print(f"neighbour agreement {a['agreement']:.3f} vs {b['agreement']:.3f} "
          f"({abs(a['agreement'] - b['agreement']) / a['agreement']:.1%} apart); final validation NCE loss "
          f"{a['main']['valid_curve'][-1]:.4f} vs {b['main']['valid_curve'][-1]:.4f}; NCE speed-up "
          f"{a['speed_up']:.2f}x vs {b['speed_up']:.2f}x ({abs(a['speed_up'] - b['speed_up']) / a['speed_up']:.0%} apart"
          + ("; the speeds of each framework's kernels on this CPU, not a difference in what they compute)"
             if abs(a["speed_up"] - b["speed_up"]) > 0.1 * a["speed_up"] else ")"))
record = run.finish()
