"""
N-gram language model, CBOW and skip-gram
=========================================

A word is a number, an index into the vocabulary. Read as a one-hot vector it is
as long as the vocabulary, and every pair of words is equally far apart. An
**embedding** gives each word a short dense vector instead, learned with the rest
of the network, so that words used alike end up near each other.

This page learns embeddings three ways, each a prediction task cut from windows
of running text, in PyTorch (``nn.Embedding``) and TensorFlow
(``keras.layers.Embedding``), on Shakespeare: the **N-gram language model**
(Bengio et al., 2003) predicts a word from the two before it; **CBOW** and
**skip-gram** (Mikolov et al., 2013) predict a word from its neighbours, and a
neighbour from the word. Then it asks whether the vectors beat what counting
gives for free: a truncated SVD of the training text's co-occurrence matrix.

Departures from the reference (the PyTorch word-embeddings tutorial, and the papers):

* Shakespeare (about 200,000 words, the 1,000 most frequent kept), not a sonnet;
* embeddings of 32 dimensions for all three models (the tutorial: 10);
* Adam on batches of 128 windows, not SGD on one window at a time;
* CBOW and skip-gram with a window of 1 and a full softmax (the paper: wider
  windows, a hierarchical softmax or negative sampling, as on the next page);
* the N-gram model without Bengio et al.'s direct input-to-output connections, ReLU for tanh.
"""

# %%
# An embedding lookup is a matrix product
# ---------------------------------------
# An embedding layer holds a table :math:`E` (vocabulary, dimension). Looking up
# word :math:`i` returns row :math:`i`: the one-hot row :math:`e_i^\top` times
# :math:`E`, without the multiplications by zero. The ``nn.Embedding``
# documentation's example, a table of 10 words in 3 dimensions and a (2, 4) batch
# of ids, checked in both frameworks:

# sphinx_gallery_thumbnail_number = 2

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.baselines.cooccurrence import ppmi_svd
from torchflow.data import load_shakespeare
from torchflow.metrics import nearest_neighbours, neighbour_agreement_with_noise, ppmi_vectors
from torchflow.plot import plot_curves
from torchflow.prep.words import Vocabulary, cbow_examples, ngram_examples, skipgram_examples, split_stream, tokenize
from torchflow.training import StepClock, batch_indices, batched_mean, combined_clock

ids = np.array([[1, 2, 4, 5], [4, 3, 2, 9]])
one_hot = np.eye(10, dtype=np.float32)[ids]  # (2, 4, 10)
if "torch" in torchflow.available_frameworks():
    import torch

    table = torch.nn.Embedding(10, 3)
    assert torch.equal(table(torch.as_tensor(ids)), torch.as_tensor(one_hot) @ table.weight)
    print(f"PyTorch: ids {ids.shape} -> embeddings {tuple(table(torch.as_tensor(ids)).shape)} = one-hot @ table")
if "tensorflow" in torchflow.available_frameworks():
    import keras

    table = keras.layers.Embedding(10, 3)
    assert np.array_equal(table(ids).numpy(), one_hot @ table.embeddings.numpy())
    print(f"TensorFlow: ids {ids.shape} -> embeddings {tuple(table(ids).shape)} = one-hot @ table")

# %%
# Three prediction tasks from one text
# ------------------------------------
# A toy sentence cut into each model's training pairs by
# :mod:`torchflow.prep.words` (the functions that cut the corpus below): the
# N-gram model with a context of 2, CBOW and skip-gram with a window of 1.
sentence = tokenize("The brown quick fox jumped over the lazy dog.")
toy = Vocabulary.build(sentence)
toy_ids = toy.encode(sentence)
for title, (inputs, targets) in (("N-gram, context 2", ngram_examples(toy_ids, 2)),
                                 ("CBOW, window 1", cbow_examples(toy_ids, 1)),
                                 ("skip-gram, window 1", skipgram_examples(toy_ids, 1))):
    pairs = [(toy.decode(np.atleast_1d(x)), toy.decode([y])[0]) for x, y in zip(inputs[:2], targets[:2])]
    print(f"{title:>19}: " + ", ".join(f"({' '.join(x)} -> {y})" for x, y in pairs) + ", ...")

# %%
# The losses and the settings
# ---------------------------
# Each model ends with a score :math:`s_w` for every word :math:`w` of the
# vocabulary :math:`V`, trained with the softmax cross-entropy
# :math:`\ell = -s_y + \log \sum_{w \in V} e^{s_w}`; that sum over the whole
# vocabulary is what the next page avoids. The N-gram model concatenates its
# context vectors (order matters) and adds a hidden layer; CBOW averages them
# (a bag: order is lost); skip-gram has one input word. Both twins read one
# set of settings.
run = torchflow.Run()
hp = torchflow.Settings(
    vocab_size=1_000, embedding_dim=32,
    context_size=2,  # N-gram: the 2 previous words
    window=1,  # CBOW and skip-gram (and the SVD baseline): 1 word on each side
    hidden_dim=128, batch_size=128, adam_epsilon=1e-8,
    learning_rate={"NGramLM": 3e-3, "CBOW": 1e-2, "SkipGram": 1e-2},
    steps=torchflow.scaled(smoke=40, cpu=2_000, full=20_000),
    eval_every=torchflow.scaled(smoke=20, cpu=250, full=1_000),
    eval_size=20_000,  # held-out windows scored at each evaluation
    neighbours=10, checked_words=200,  # the neighbour check: 10 nearest of the 200 most frequent words
    seed=0,
)
run.chosen_by("learning rates 3e-3 (N-gram), 1e-2 (CBOW, skip-gram) of 3e-3, 1e-2, 3e-2",
              study="studies/embeddings/learning-rates/results.md", evidence="validation cross-entropy")
MODELS = ("NGramLM", "CBOW", "SkipGram")
AGREEMENT = "neighbour agreement"
for model_name in MODELS:
    # cpu and full: beat the count baseline; smoke: test perplexity well below the uniform guess's V
    run.expect(f"{model_name} {AGREEMENT}", above_baseline_by=torchflow.scaled(smoke=None, cpu=0.0, full=0.0))
    run.expect(f"{model_name} test perplexity", at_most=torchflow.scaled(smoke=0.8 * hp.vocab_size, cpu=None,
                                                                        full=None))
hp

# %%
# The dimension flow, traced from the twins
# -----------------------------------------
# The N-gram model with the tutorial's sizes (97 words, embedding 10, context 2)
# on a batch of two contexts: ``[2]`` ids become ``[2, 10]`` vectors, flattened
# to ``[20]``, then 128 hidden units and 97 scores.
from torchflow.flow import draw_flows, trace_twins

flows = trace_twins("word_embeddings", "NGramLM", np.zeros((2, 2), np.int64),
                    frameworks=torchflow.available_frameworks(),
                    model_kwargs=dict(vocab_size=97, embedding_dim=10, context_size=2))
fig = draw_flows(flows, title="N-gram language model: ids -> embeddings -> flatten -> hidden -> scores")

# %%
# Data
# ----
# Shakespeare cut into lower-case words: the first 80% train, the next 10%
# validate, the last 10% test. The vocabulary is the 1,000 most frequent training
# words; other words are dropped from the stream (as word2vec does).
corpus = load_shakespeare()
run.use_data(corpus)
tokens = tokenize(corpus.text)
vocabulary, train_ids, valid_ids, test_ids = split_stream(tokens, hp.vocab_size, train=0.8, valid=0.1)
print(f"{len(tokens):,} words, {len(set(tokens)):,} distinct; the {len(vocabulary):,} kept cover "
      f"{len(train_ids) / int(0.8 * len(tokens)):.1%} of the training words")
examples = {"NGramLM": lambda ids: ngram_examples(ids, hp.context_size),
            "CBOW": lambda ids: cbow_examples(ids, hp.window),
            "SkipGram": lambda ids: skipgram_examples(ids, hp.window)}
splits = {name: {"train": make(train_ids), "valid": make(valid_ids), "test": make(test_ids)}
          for name, make in examples.items()}

# %%
# The neighbour check, and what counting gives for free
# -----------------------------------------------------
# Are a word's nearest neighbours (cosine similarity of its vector) words used
# like it? The reference comes from text no model trains on: for the 200 most
# frequent words, count which words occur within two positions of each in the
# validation and test text, turn the counts into positive pointwise mutual
# information, :math:`\max(0, \log \frac{p(w, c)}{p(w)\,p(c)})`
# (:func:`torchflow.metrics.ppmi_vectors`), and take each word's 10 nearest
# words by those rows. An embedding's **neighbour agreement** is the share of
# its 10 nearest neighbours found in that list, ± its standard error over the
# 200 words; random vectors score about 10/199.
#
# The **baseline** counts too, on the training text only: the PPMI matrix of
# the training words (window 1, as CBOW and skip-gram), cut to 32 dimensions by
# a truncated SVD, :math:`E = U_{32} S_{32}^{1/2}`
# (:func:`torchflow.baselines.cooccurrence.ppmi_svd`). Skip-gram with negative
# sampling is known to factorise a shifted PMI matrix (Levy and Goldberg, 2014),
# so this is the model the networks must beat, not a ceiling: a network can do
# better, and the reference's choice of PPMI favours counts.
checked = np.arange(hp.checked_words)  # ids are ranked by frequency: the 200 most frequent words
reference = nearest_neighbours(ppmi_vectors(np.concatenate([valid_ids, test_ids]), len(vocabulary))[checked],
                               hp.neighbours)


def agreement(table):
    """Neighbour agreement of an embedding table (vocabulary, dim) with the held-out reference, and its noise."""
    return neighbour_agreement_with_noise(nearest_neighbours(np.asarray(table)[checked], hp.neighbours), reference)


svd_vectors = ppmi_svd(train_ids, len(vocabulary), hp.embedding_dim, window=hp.window)
svd_agreement, svd_noise = agreement(svd_vectors)
for model_name in MODELS:
    run.baseline(f"{model_name} {AGREEMENT}", svd_agreement, f"PPMI-SVD ({hp.embedding_dim} dims)",
                 noise=svd_noise)
print(f"PPMI-SVD baseline: agreement {svd_agreement:.3f} ± {svd_noise:.3f}; "
      f"chance {hp.neighbours / (len(checked) - 1):.3f}")

# %%
# The twins
# ---------
# Both twins train each model on the same batches
# (:func:`torchflow.training.batch_indices`) from the same initial weights (the
# PyTorch twin's, copied by :func:`torchflow.convert.copy_torch_to_keras`).
#
# .. tab-set::
#    :sync-group: framework
#
#    .. tab-item:: PyTorch
#       :sync: torch
#
#       .. literalinclude:: /../torchflow/pt/word_embeddings.py
#          :language: python
#          :pyobject: CBOW
#
#    .. tab-item:: TensorFlow
#       :sync: tensorflow
#
#       .. literalinclude:: /../torchflow/tf/word_embeddings.py
#          :language: python
#          :pyobject: CBOW
results, devices, initial_weights = {}, {}, {}


def train(name, train_step, held_out_loss, clock):
    """The loop both twins share: ``hp.steps`` steps, the held-out loss every ``eval_every``."""
    curve, valid_curve, losses = [], [], []
    for step, index in enumerate(batch_indices(len(splits[name]["train"][1]), hp.batch_size, hp.steps, hp.seed), 1):
        with clock:
            losses.append(train_step(index))
        if step % hp.eval_every == 0 or step == hp.steps:
            curve.append(np.mean(losses))
            valid_curve.append(held_out_loss("valid"))
            losses = []
    return dict(curve=curve, valid_curve=valid_curve, test_loss=held_out_loss("test"), clock=clock)


def model_kwargs(name):
    return {"NGramLM": dict(context_size=hp.context_size, hidden_dim=hp.hidden_dim),
            "CBOW": dict(context_size=2 * hp.window), "SkipGram": {}}[name]


# %%
# Training the PyTorch twin: slice the batch, the scores, the cross-entropy,
# ``zero_grad``, ``backward``, ``step``.
if run.trains("torch"):
    import torch
    import torch.nn.functional as F

    from torchflow.convert import torch_state
    from torchflow.device import torch_device
    from torchflow.pt import word_embeddings

    torch_dev = torch_device()
    devices["torch"], results["torch"] = str(torch_dev), {}
    for name in MODELS:
        torch.manual_seed(hp.seed)
        model = getattr(word_embeddings, name)(len(vocabulary), hp.embedding_dim, **model_kwargs(name)).to(torch_dev)
        initial_weights[name] = torch_state(model)
        optimizer = torch.optim.Adam(model.parameters(), lr=hp.learning_rate[name], eps=hp.adam_epsilon)
        data = {k: tuple(torch.as_tensor(a, device=torch_dev) for a in v) for k, v in splits[name].items()}

        def train_step(index, model=model, optimizer=optimizer, x=data["train"][0], y=data["train"][1]):
            loss = F.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()

        @torch.no_grad()
        def held_out(split, model=model, data=data):  # mean cross-entropy of the split's first eval_size windows
            x, y = (a[: hp.eval_size] for a in data[split])
            return batched_mean(lambda a, b: F.cross_entropy(model(a), b).item(), x, y, batch_size=5_000)

        results["torch"][name] = train(name, train_step, held_out, StepClock())
        results["torch"][name]["embeddings"] = model.embeddings.weight.detach().cpu().numpy()

# %%
# Training the TensorFlow twin: the same step under a ``GradientTape``, compiled
# with XLA; the embedding gradients are made dense before Adam, for the reason
# given in :mod:`torchflow.tf.layers`.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.convert import copy_torch_to_keras
    from torchflow.device import tf_device
    from torchflow.tf import word_embeddings

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()
    devices["tensorflow"], results["tensorflow"] = tf_dev, {}
    for name in MODELS:
        with tf.device(tf_dev):
            model = getattr(word_embeddings, name)(len(vocabulary), hp.embedding_dim, **model_kwargs(name))
            if name in initial_weights:  # the PyTorch twin's initial weights
                copy_torch_to_keras(initial_weights[name], model)
            optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate[name], epsilon=hp.adam_epsilon)
            data = {k: tuple(tf.constant(a) for a in v) for k, v in splits[name].items()}

            @tf.function(jit_compile=True)
            def compiled_step(index, model=model, optimizer=optimizer, x=data["train"][0], y=data["train"][1]):
                with tf.GradientTape() as tape:
                    logits = model(tf.gather(x, index))
                    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.gather(y, index), logits))
                gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]
                optimizer.apply_gradients(zip(gradients, model.trainable_variables))
                return loss

            score = tf.function(lambda a, b, model=model: tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(b, model(a))), reduce_retracing=True)

            def held_out(split, score=score, data=data):
                return batched_mean(score, *(a[: hp.eval_size] for a in data[split]), batch_size=5_000)

            results["tensorflow"][name] = train(name, lambda i, s=compiled_step: float(s(i)), held_out, StepClock())
            results["tensorflow"][name]["embeddings"] = model.embeddings.embeddings.numpy()

# %%
# Results
# -------
# Each model's neighbour agreement against the PPMI-SVD baseline, and its test
# cross-entropy as a perplexity :math:`e^{\ell}` (1,000 for a uniform guess).
for framework, models in results.items():
    metrics, noise = {}, {}
    for name, r in models.items():
        r["agreement"], r["noise"] = agreement(r["embeddings"])
        metrics[f"{name} {AGREEMENT}"], noise[f"{name} {AGREEMENT}"] = r["agreement"], r["noise"]
        metrics[f"{name} test perplexity"] = r["perplexity"] = float(np.exp(r["test_loss"]))
    clock = combined_clock(r["clock"] for r in models.values())
    run.record(framework, metrics, noise=noise, device=devices[framework], clock=clock)
verdict = run.verdict()
verdict

# %%
for framework, models in results.items():
    for name, r in models.items():
        print(f"{torchflow.frameworks.label(framework):>10} {name:>8}: agreement {r['agreement']:.3f} ± "
              f"{r['noise']:.3f}, perplexity {r['perplexity']:.0f}")
if initial_weights:
    random_agreement = agreement(initial_weights["SkipGram"]["embeddings.weight"])[0]
    print(f"the initial (random) embeddings: agreement {random_agreement:.3f}")
best = max((r["agreement"], name) for models in results.values() for name, r in models.items())
if verdict.below_baseline and run.budget != "smoke":
    print(f"Finding: after {hp.steps:,} steps the counts win. The best network ({best[1]}, {best[0]:.3f})\n"
          f"is {svd_agreement - best[0]:.3f} below the PPMI-SVD ({svd_agreement:.3f} ± {svd_noise:.3f}), "
          "which costs one pass of\ncounting and one SVD. Ten times the steps (the full budget) is measured on "
          "validation\ntext in studies/embeddings/ngram-cbow-skipgram-steps/results.md; wider windows and more\n"
          "text are unmeasured.")

# %%
# Loss curves
# -----------
# Training loss (solid) and validation loss (dashed) of the three models, both
# twins, from the same weights on the same batches.
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
fig.suptitle("Training and validation cross-entropy of the three models, both twins")
fig.tight_layout()

# %%
# Nearest neighbours
# ------------------
# The five nearest words to a few frequent words, for the baseline and each
# model of the PyTorch twin (the TensorFlow twin's are in the record): does a
# pronoun sit with pronouns, an auxiliary with auxiliaries?
probe = [w for w in ("king", "love", "good", "thou") if w in vocabulary]
tables = {"PPMI-SVD": svd_vectors} | {name: r["embeddings"] for name, r in next(iter(results.values()), {}).items()}
found = {name: nearest_neighbours(vectors, 5, rows=vocabulary.encode(probe)) for name, vectors in tables.items()}
for i, word in enumerate(probe):
    for name, rows in found.items():
        print(f"{word:>5} {name:>9}: {' '.join(vocabulary.decode(rows[i]))}")

# %%
# Comparison
# ----------
# The twins started from the same weights and saw the same batches: float32
# rounding and the two Adams' placement of epsilon are what separate them
# (``tests/test_parity_word_embeddings.py`` removes the second and finds the
# steps equal to rounding in float64).
run.compare()

# %%
record = run.finish()
