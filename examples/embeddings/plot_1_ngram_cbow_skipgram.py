"""
N-gram language model, CBOW and skip-gram
=========================================

A word is a number, an index into the vocabulary. A network could read it as a
one-hot vector as long as the vocabulary, but such vectors are huge, and every
pair of them is equally far apart: "king" is no closer to "queen" than to "of".
An **embedding** gives each word a short dense vector instead, learned with the
rest of the network, so that words used alike end up near each other.

This page learns embeddings three ways, each a small prediction task built from
windows of running text, and trains each model twice, in PyTorch with
``nn.Embedding`` and in TensorFlow with ``keras.layers.Embedding``, on Shakespeare:

* the **N-gram language model** predicts a word from the two words before it;
* **CBOW** (continuous bag of words) predicts a word from its neighbours on both sides;
* **skip-gram** predicts a neighbour from the word.

**Departures from the notes.** The notes train on a 97-word poem with an
embedding of 10 and batches of one example. Here the text is about 200,000
words of Shakespeare, the vocabulary is cut to the 1,000 most frequent words,
the embedding has 32 dimensions (the same for the three models), and each step
takes a batch of 128 windows, so that a minute of CPU time teaches something.
The dimension flow below is traced with the notes' sizes.
"""

# sphinx_gallery_thumbnail_number = 3

# %%
# An embedding lookup is a matrix product
# ---------------------------------------
# An embedding layer holds a table :math:`E` of shape (vocabulary, dimension).
# Looking up word :math:`i` returns row :math:`i`, which is what multiplying the
# one-hot row vector :math:`e_i^\top` by :math:`E` gives; the layer just skips
# the multiplications by zero. The notes' example, a table of 10 words in 3
# dimensions and a (2, 4) batch of ids, checked here in both frameworks:
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_shakespeare
from torchflow.data.words import (
    Vocabulary,
    cbow_examples,
    ngram_examples,
    skipgram_examples,
    split_stream,
    tokenize,
)
from torchflow.metrics import nearest_neighbours, neighbour_agreement, ppmi_vectors
from torchflow.plot import FRAMEWORK_COLOURS, plot_curves
from torchflow.training import StepClock, batch_indices, batched_mean, combined_clock

ids = np.array([[1, 2, 4, 5], [4, 3, 2, 9]])
one_hot = np.eye(10, dtype=np.float32)[ids]  # (2, 4, 10)
if "torch" in torchflow.available_frameworks():
    import torch

    table = torch.nn.Embedding(10, 3)
    looked_up = table(torch.as_tensor(ids))
    assert torch.equal(looked_up, torch.as_tensor(one_hot) @ table.weight)
    print(f"PyTorch: ids {tuple(ids.shape)} -> embeddings {tuple(looked_up.shape)}, equal to one-hot @ table")
if "tensorflow" in torchflow.available_frameworks():
    import keras

    table = keras.layers.Embedding(10, 3)
    looked_up = table(ids)
    assert np.array_equal(looked_up.numpy(), one_hot @ table.embeddings.numpy())
    print(f"TensorFlow: ids {tuple(ids.shape)} -> embeddings {tuple(looked_up.shape)}, equal to one-hot @ table")

# %%
# Three prediction tasks from one text
# ------------------------------------
# The notes' sentence, cut into the training pairs of each model: the N-gram
# model with a context of 2 words, CBOW and skip-gram with a window of 1 word on
# each side. These are made by :mod:`torchflow.data.words`, the same functions
# that cut the real corpus below.
sentence = tokenize("The brown quick fox jumped over the lazy dog.")
toy = Vocabulary.build(sentence)
toy_ids = toy.encode(sentence)
for title, (inputs, targets) in (("N-gram, context 2", ngram_examples(toy_ids, 2)),
                                 ("CBOW, window 1", cbow_examples(toy_ids, 1)),
                                 ("skip-gram, window 1", skipgram_examples(toy_ids, 1))):
    pairs = [(toy.decode(np.atleast_1d(x)), toy.decode([y])[0]) for x, y in zip(inputs[:4], targets[:4])]
    print(f"{title:>20}: " + ", ".join(f"({' '.join(x)} -> {y})" for x, y in pairs) + ", ...")

# %%
# The losses
# ----------
# Each model ends with a score :math:`s_w` for every word :math:`w` of the
# vocabulary :math:`V` and is trained with the cross-entropy of the softmax,
# :math:`\ell = -s_y + \log \sum_{w \in V} e^{s_w}` for the word :math:`y` to
# predict. That sum over the whole vocabulary is the cost the next page avoids.
# The N-gram model concatenates its context vectors (their order matters) and
# passes them through a hidden layer; CBOW averages them (a bag: order is lost);
# skip-gram has one input word. In CBOW and skip-gram the output layer is a
# second table of word vectors, and the score is a dot product of the input
# vector with each output vector.
#
# Hyperparameters, declared once
# ------------------------------
# Both twins read the same settings. Each model's learning rate was chosen on
# the validation loss among 0.003, 0.01 and 0.03 (``benchmarks/embeddings-lr.md``).
# Training is counted in optimiser steps, the same for the three models.
run = torchflow.Run()
hp = SimpleNamespace(
    vocab_size=1_000,
    embedding_dim=32,
    context_size=2,  # N-gram: the 2 previous words
    window=1,  # CBOW and skip-gram: 1 word on each side
    hidden_dim=128,  # N-gram's hidden layer
    batch_size=128,
    learning_rate={"NGramLM": 3e-3, "CBOW": 1e-2, "SkipGram": 1e-2},
    adam_epsilon=1e-8,
    steps=torchflow.scaled(smoke=40, cpu=2_000, full=20_000),
    eval_every=torchflow.scaled(smoke=20, cpu=250, full=1_000),
    eval_size=20_000,  # held-out windows scored at each evaluation
    neighbours=10,  # the neighbour check below: 10 nearest of the 200 most frequent words
    checked_words=200,
    seed=0,
)
MODELS = ("NGramLM", "CBOW", "SkipGram")
AGREEMENT = "neighbour agreement"
for model_name in MODELS:
    run.expect(f"{model_name} {AGREEMENT}", at_least=torchflow.scaled(smoke=None, cpu=0.075, full=0.1))
    # smoke: test perplexity well below the uniform guess's, the vocabulary size (where an untrained model is)
    run.expect(f"{model_name} test perplexity", at_most=torchflow.scaled(smoke=0.8 * hp.vocab_size, cpu=None,
                                                                        full=None))
hp

# %%
# The dimension flow, traced from the twins
# -----------------------------------------
# The N-gram model with the notes' sizes (97 words, embedding 10, context 2), on
# a batch of two contexts: ``[2]`` word ids per example become ``[2, 10]``
# vectors, flattened to ``[20]``, then 128 hidden units and 97 scores.
from torchflow.flow import draw_flows, trace_twins

flows = trace_twins("word_embeddings", "NGramLM", np.zeros((2, 2), np.int64),
                    frameworks=torchflow.available_frameworks(),
                    model_kwargs=dict(vocab_size=97, embedding_dim=10, context_size=2))
fig = draw_flows(flows, title="N-gram language model: ids -> embeddings -> flatten -> hidden -> scores")

# %%
# Data
# ----
# The Shakespeare text of the data layer, cut into lower-case words. The first
# 80% of the words train, the next 10% validate (the learning rate was chosen
# on it) and the last 10% test; the vocabulary is the 1,000 most frequent
# training words, and the other words are dropped from the stream (the usual
# practice for word2vec), so that windows join the words around them.
corpus = load_shakespeare()
run.use_data(corpus)
tokens = tokenize(corpus.text)
vocabulary, train_ids, valid_ids, test_ids = split_stream(tokens, hp.vocab_size, train=0.8, valid=0.1)
print(f"{len(tokens):,} words, {len(set(tokens)):,} distinct; the {len(vocabulary):,} kept cover "
      f"{len(train_ids) / int(0.8 * len(tokens)):.1%} of the training words; most frequent: "
      f"{', '.join(vocabulary.words[:12])}")

examples = {"NGramLM": lambda ids: ngram_examples(ids, hp.context_size),
            "CBOW": lambda ids: cbow_examples(ids, hp.window),
            "SkipGram": lambda ids: skipgram_examples(ids, hp.window)}
splits = {name: {"train": make(train_ids), "valid": make(valid_ids), "test": make(test_ids)}
          for name, make in examples.items()}
for name, parts in splits.items():
    print(f"{name}: " + ", ".join(f"{len(x[0]):,} {split} pairs" for split, x in parts.items()))

# %%
# A neighbour check built from the corpus
# ---------------------------------------
# Are the nearest neighbours of a word (by cosine similarity of the embeddings)
# better than chance? The reference is independent of the models: for the 200
# most frequent words, count which words occur within two positions of each in
# the *held-out* 20% of the text (validation and test), turn the counts into
# positive pointwise mutual information (:func:`torchflow.metrics.ppmi_vectors`),
# and take each word's 10 nearest words by those context profiles. A model's
# **neighbour agreement** is the share of its 10 nearest neighbours that are in
# that reference list. Random vectors score about 10/199 = 0.05; the same
# reference built from the *training* text instead scores the number printed
# here, a rough ceiling for what co-occurrence can show on this little text.
checked = np.arange(hp.checked_words)  # ids are ranked by frequency: the 200 most frequent words
reference = nearest_neighbours(ppmi_vectors(np.concatenate([valid_ids, test_ids]), len(vocabulary))[checked],
                               hp.neighbours)
ceiling = neighbour_agreement(nearest_neighbours(ppmi_vectors(train_ids, len(vocabulary))[checked], hp.neighbours),
                              reference)
print(f"reference from the training text: agreement {ceiling:.3f}; chance: {hp.neighbours / (len(checked) - 1):.3f}")


def agreement(table):
    """Neighbour agreement of an embedding table (vocabulary, dim) with the held-out reference."""
    return neighbour_agreement(nearest_neighbours(np.asarray(table)[checked], hp.neighbours), reference)


# %%
# Both twins train each model on the *same* batches
# (:func:`torchflow.training.batch_indices`), and the TensorFlow twin starts from
# the PyTorch twin's initial weights, copied with
# :func:`torchflow.convert.copy_torch_to_keras`: the twins are then one
# experiment, and what differs between them is the framework. ``train`` is the
# loop both share; it evaluates the held-out loss every ``eval_every`` steps.
results, devices = {}, {}
initial_weights = {}


def train(name, train_step, held_out_loss, clock):
    curve, valid_curve, losses = [], [], []
    for step, index in enumerate(batch_indices(len(splits[name]["train"][1]), hp.batch_size, hp.steps, hp.seed), 1):
        with clock:
            losses.append(train_step(index))
        if step % hp.eval_every == 0 or step == hp.steps:
            curve.append(np.mean(losses))
            valid_curve.append(held_out_loss("valid"))
            losses = []
    print(f"{name}: step {hp.steps}: train {curve[-1]:.3f}, validation {valid_curve[-1]:.3f} nats")
    return curve, valid_curve


# %%
# The models
# ----------
# The twins have the same classes, arguments, defaults and layer names.
#
# .. tab-set::
#
#    .. tab-item:: PyTorch
#
#       .. literalinclude:: /../torchflow/pt/word_embeddings.py
#          :language: python
#          :lines: 23-
#
#    .. tab-item:: TensorFlow
#
#       .. literalinclude:: /../torchflow/tf/word_embeddings.py
#          :language: python
#          :lines: 23-
#
# Training the PyTorch twin
# -------------------------
# One step: slice the batch, the scores of every word, the cross-entropy,
# ``zero_grad``, ``backward``, ``step``. The windows sit in memory as tensors.
if run.trains("torch"):
    import torch
    import torch.nn.functional as F

    from torchflow.convert import torch_state
    from torchflow.device import torch_device
    from torchflow.pt import word_embeddings

    def make_train_step(model, optimizer, inputs, targets):
        def train_step(index):
            loss = F.cross_entropy(model(inputs[index]), targets[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()
        return train_step

    def held_out(model, data):
        @torch.no_grad()
        def loss(split):  # the mean cross-entropy of the first eval_size windows of the split
            x, y = (a[: hp.eval_size] for a in data[split])
            return batched_mean(lambda a, b: F.cross_entropy(model(a), b).item(), x, y, batch_size=5_000)
        return loss

    torch_dev = torch_device()
    devices["torch"] = str(torch_dev)
    results["torch"] = {}
    for name in MODELS:
        torch.manual_seed(hp.seed)
        kwargs = {"context_size": hp.context_size, "hidden_dim": hp.hidden_dim} if name == "NGramLM" else {}
        kwargs = {"context_size": 2 * hp.window} if name == "CBOW" else kwargs
        model = getattr(word_embeddings, name)(len(vocabulary), hp.embedding_dim, **kwargs).to(torch_dev)
        initial_weights[name] = torch_state(model)
        optimizer = torch.optim.Adam(model.parameters(), lr=hp.learning_rate[name], eps=hp.adam_epsilon)
        data = {split: tuple(torch.as_tensor(a, device=torch_dev) for a in arrays)
                for split, arrays in splits[name].items()}
        clock, evaluate = StepClock(), held_out(model, data)
        curve, valid_curve = train(name, make_train_step(model, optimizer, *data["train"]), evaluate, clock)
        results["torch"][name] = dict(curve=curve, valid_curve=valid_curve, test_loss=evaluate("test"),
                                      clock=clock, embeddings=model.embeddings.weight.detach().cpu().numpy())

# %%
# Training the TensorFlow twin
# ----------------------------
# The same step under a ``GradientTape``, compiled with XLA
# (``tf.function(jit_compile=True)``). One line differs from a plain Keras step:
# the gradients are made dense (``tf.convert_to_tensor``) before Adam sees them.
# An embedding's gradient arrives as ``IndexedSlices``, one slice per looked-up
# id, and Keras' Adam squares it slice by slice, so a word that occurs twice in
# a batch adds two squares to Adam's second moment where PyTorch adds the square
# of the sum. Summing the slices first makes the update PyTorch's; the parity
# tests measure the difference it makes (``tests/test_parity_word_embeddings.py``).
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.convert import copy_torch_to_keras
    from torchflow.device import tf_device
    from torchflow.tf import word_embeddings

    def make_train_step(model, optimizer, inputs, targets):
        @tf.function(jit_compile=True)
        def train_step(index):
            with tf.GradientTape() as tape:
                logits = model(tf.gather(inputs, index))
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.gather(targets, index),
                                                                                     logits))
            gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return loss
        return lambda index: float(train_step(index))

    def held_out(model, data):
        score = tf.function(lambda a, b: tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(b, model(a))),
                            reduce_retracing=True)

        def loss(split):
            x, y = (a[: hp.eval_size] for a in data[split])
            return batched_mean(score, x, y, batch_size=5_000)
        return loss

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()
    devices["tensorflow"] = tf_dev
    results["tensorflow"] = {}
    for name in MODELS:
        with tf.device(tf_dev):
            kwargs = {"context_size": hp.context_size, "hidden_dim": hp.hidden_dim} if name == "NGramLM" else {}
            kwargs = {"context_size": 2 * hp.window} if name == "CBOW" else kwargs
            model = getattr(word_embeddings, name)(len(vocabulary), hp.embedding_dim, **kwargs)
            if name in initial_weights:  # the PyTorch twin's initial weights
                copy_torch_to_keras(initial_weights[name], model)
            optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate[name], epsilon=hp.adam_epsilon)
            data = {split: tuple(tf.constant(a) for a in arrays) for split, arrays in splits[name].items()}
        clock, evaluate = StepClock(), held_out(model, data)
        with tf.device(tf_dev):
            curve, valid_curve = train(name, make_train_step(model, optimizer, *data["train"]), evaluate, clock)
            results["tensorflow"][name] = dict(curve=curve, valid_curve=valid_curve,
                                               test_loss=evaluate("test"), clock=clock,
                                               embeddings=model.embeddings.embeddings.numpy())

# %%
# Results
# -------
# For each twin and model: the neighbour agreement of the trained embeddings
# (the target: at least 0.075, half as much again as chance, 0.05), and the test
# cross-entropy as a perplexity :math:`e^{\ell}` (the number of equally likely
# words the model hesitates between; 1,000 for a uniform guess).
random_agreement = agreement(initial_weights["NGramLM"]["embeddings.weight"]) if initial_weights else None
for models in results.values():
    for r in models.values():
        r["agreement"] = agreement(r["embeddings"])
        r["perplexity"] = float(np.exp(r["test_loss"]))
run.record_all({framework: {"clock": combined_clock(r["clock"] for r in models.values()), "device": devices[framework], **models}
                for framework, models in results.items()},
               lambda r: {f"{name} {AGREEMENT}": r[name]["agreement"] for name in MODELS}
               | {f"{name} test perplexity": r[name]["perplexity"] for name in MODELS})
run.verdict()

# %%
for framework, models in results.items():
    for name, r in models.items():
        print(f"{torchflow.frameworks.label(framework):>10} {name:>8}: neighbour agreement {r['agreement']:.3f}, "
              f"test perplexity {r['perplexity']:.0f}, {1000 * r['clock'].seconds_per_step:.2f} ms per step")
if random_agreement is not None:
    print(f"the initial (random) embeddings: neighbour agreement {random_agreement:.3f}")

# %%
# Loss curves
# -----------
# Training loss (averaged since the last evaluation, solid) and validation loss
# (dashed) of the three models, both twins. The twins start from the same
# weights and see the same batches; the line below prints the largest gap
# between their curves.
fig, axes = plt.subplots(1, len(MODELS), figsize=(12, 3.8), sharey=True)
for ax, name in zip(axes, MODELS):
    for kind, style in (("curve", "-"), ("valid_curve", "--")):
        curves = {f"{fw} {'train' if kind == 'curve' else 'validation'}": models[name][kind]
                  for fw, models in results.items()}
        x = {key: hp.eval_every * np.arange(1, len(v) + 1) for key, v in curves.items()}
        plot_curves(curves, ax=ax, x=x, xlabel="optimiser step", ylabel="cross-entropy (nats)", title=name)
        for line in ax.lines[-len(curves):]:
            line.set_linestyle(style)
    ax.legend(fontsize=7)
fig.tight_layout()
if len(results) == 2:
    curve_gap = max(np.abs(np.subtract(results["torch"][name][kind], results["tensorflow"][name][kind])).max()
                    for name in MODELS for kind in ("curve", "valid_curve"))
    print(f"largest gap between the twins' loss curves: {curve_gap:.4f} nats")

# %%
# Nearest neighbours
# ------------------
# The five nearest words (cosine similarity) to a few frequent words, for each
# model of each twin: a reader can judge them, for instance whether a pronoun's
# neighbours are pronouns and an auxiliary's are auxiliaries. The agreement
# score above is the count of such judgements made against the corpus.
probe = [w for w in ("king", "lord", "love", "good", "my", "him", "will", "thou", "night", "come") if w in vocabulary]
for framework, models in results.items():
    for name, r in models.items():
        found = nearest_neighbours(r["embeddings"], 5, rows=vocabulary.encode(probe))
        print(f"{torchflow.frameworks.label(framework)} {name}:")
        for word, row in zip(probe, found):
            print(f"    {word:>6}: {', '.join(vocabulary.decode(row))}")

# %%
# The embeddings in two dimensions
# --------------------------------
# The 32-dimensional skip-gram vectors of the 80 most frequent words, projected
# on their first two principal components (the next page trains embeddings of
# dimension 2 directly, as the notes do).
fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 6), squeeze=False)
for ax, (framework, models) in zip(axes[0], results.items()):
    vectors = models["SkipGram"]["embeddings"][:80]
    centred = vectors - vectors.mean(0)
    projected = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
    ax.scatter(*projected.T, s=8, color=FRAMEWORK_COLOURS.get(framework))
    for word, (px, py) in zip(vocabulary.words[:80], projected):
        ax.annotate(word, (px, py), fontsize=7)
    ax.set_title(f"{torchflow.frameworks.label(framework)}: skip-gram, first two principal components")
fig.tight_layout()

# %%
# Comparison
# ----------
# The twins started from the same weights and saw the same batches; the lines
# below print how far apart their metrics ended. Two things can separate them:
# float32 rounding, and the two Adams, which place epsilon differently
# (``tests/parity.py``, ``KerasAdam``); with that difference removed, the parity
# tests (``tests/test_parity_word_embeddings.py``) find the twins' steps equal
# to rounding in float64.
if len(results) == 2:
    for name in MODELS:
        a, b = results["torch"][name], results["tensorflow"][name]
        print(f"{name}: agreement {a['agreement']:.3f} vs {b['agreement']:.3f} "
              f"({abs(a['agreement'] - b['agreement']) / a['agreement']:.1%} apart), perplexity "
              f"{a['perplexity']:.1f} vs {b['perplexity']:.1f} "
              f"({abs(a['perplexity'] - b['perplexity']) / a['perplexity']:.1%} apart)")
record = run.finish()
