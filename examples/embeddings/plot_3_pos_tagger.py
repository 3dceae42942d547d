"""
An LSTM part-of-speech tagger, with and without character features
==================================================================

A part-of-speech tagger labels each word of a sentence with its grammatical
class: noun, verb, adjective, punctuation... The same word can take different
tags ("that" is a determiner in "read that book" and a conjunction in "said
that it rained"), and what decides it is often the word *after* it.

The page follows the LSTM tagger of the PyTorch tutorial *Sequence Models and
Long Short-Term Memory Networks*: each word's **embedding** goes into an
**LSTM** whose state at each word is mapped to tag scores; its exercise adds a
**character-level LSTM** whose state after a word's last letter joins the
word's embedding (endings carry much of a word's class, and a word never seen
in training has no embedding of its own, but it has letters). A one-way LSTM
has read only the words up to the current one, so the page also trains the
**bidirectional** tagger, whose second LSTM reads the sentence backwards.

A tagger is worth only what it adds to a lookup table, so before any network
trains the page tags the test text with each word's most frequent training tag
(and a suffix lookup for unseen words): the verdict compares the twins with it.

Departures from the reference:

* a real treebank (below) instead of the tutorial's two toy sentences, whose
  sentence only draws the dimension flow here;
* embedding 32, LSTM 64, character LSTM 32 units and batches of 32 sentences
  (the tutorial: 6 and 6 units, one sentence a step), Adam instead of SGD;
* the bidirectional taggers, which the tutorial does not have.
"""

# %%
# The model and its dimension flow
# --------------------------------
# A sentence of 4 words flows as ``[4]`` ids → ``[4, E]`` embeddings →
# ``[4, H]`` LSTM states (``[4, 2H]`` both ways) → ``[4, tags]`` scores, with a
# batch dimension in front (the twins read padded batches, ``batch_first``).
# The loss is the cross-entropy of each real word's tag scores, averaged over
# the words of the batch; the padding (id 0) is masked out, and the backward
# LSTM starts at each sentence's last real word (PyTorch: a packed sequence;
# Keras: the mask of the real words), so padding changes no score.

# sphinx_gallery_thumbnail_number = 2
import textwrap

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.baselines.tags import MostFrequentTag, choose_suffix_length
from torchflow.data.pos import load_pos_splits
from torchflow.flow import draw_flows, trace_twins
from torchflow.metrics import confusion_matrix, proportion_standard_error, unseen_word_accuracy
from torchflow.plot import FRAMEWORK_COLOURS, plot_confusion
from torchflow.prep.words import Vocabulary, char_ids, pad_sequences
from torchflow.training import StepClock, batch_indices, combined_clock

toy = [("Everybody", "NN"), ("read", "V"), ("that", "DET"), ("book", "NN")]
toy_words = Vocabulary.build([w for w, _ in toy], specials=("<pad>",))
toy_x = pad_sequences([toy_words.encode([w for w, _ in toy])])
flows = trace_twins("tagger", "LSTMTagger", toy_x, frameworks=torchflow.available_frameworks(),
                    model_kwargs=dict(vocab_size=len(toy_words), tagset_size=3))
fig = draw_flows(flows, title="LSTM tagger: ids -> embeddings -> LSTM states -> tag scores")

# %%
# Hyperparameters, declared once
# ------------------------------
run = torchflow.Run()
hp = torchflow.Settings(
    embedding_dim=32, hidden_dim=64, char_embedding_dim=16, char_hidden_dim=32,
    word_length=10,  # the last 10 letters of a word (its suffixes) feed the character LSTM
    max_length=32,  # training sentences cut at 32 words (time per step); held-out ones are not cut
    min_count=2,  # words seen once in training share the unknown-word embedding
    batch_size=32,
    learning_rate={"LSTMTagger": 3e-3, "CharLSTMTagger": 1e-2},
    adam_epsilon=1e-8,
    steps=torchflow.scaled(smoke=15, cpu=600, full=5_000),
    eval_every=torchflow.scaled(smoke=15, cpu=100, full=500),
    held_out_size=torchflow.scaled(smoke=60, cpu=None, full=None),  # sentences (None: all)
    suffix_lengths=(0, 1, 2, 3, 4, 5),
    seed=0,
)
run.chosen_by("learning rates 3e-3 (words) and 1e-2 (with characters)",
              study="studies/embeddings/learning-rates/results.md",
              evidence="validation accuracy of the one-way taggers")
# name -> (class, both ways); the last is the headline tagger
MODELS = {"one-way": ("LSTMTagger", False), "both ways": ("LSTMTagger", True),
          "both ways + characters": ("CharLSTMTagger", True)}
hp

# %%
# Data
# ----
# Training and test sentences come from one treebank (the loader takes the
# test split from the source the training split came from). Words keep their
# case; a Turkish word is kept whole (the treebank splits it into inflectional
# pieces, which the loader joins back; the word takes its last piece's tag).
# The last 10 % of the training sentences are the validation split.
train_set, test_set = load_pos_splits(join_pieces=True)
run.use_data(train_set, test_set)
cut = int(0.9 * len(train_set))
held = slice(0, hp.held_out_size)
train_words, valid_words, test_words = train_set.words[:cut], train_set.words[cut:][held], test_set.words[held]
train_tags, valid_tags, test_tags = train_set.tags[:cut], train_set.tags[cut:][held], test_set.tags[held]
tagset = tuple(sorted(set(train_set.tagset) | set(test_set.tagset)))
UD_TAGS = {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
           "SCONJ", "SYM", "VERB", "X"}
print(textwrap.fill(f"{len(tagset)} tags in the data: {', '.join(tagset)}. Not among the 17 UD tags: "
                    f"{', '.join(sorted(set(tagset) - UD_TAGS)) or 'none'}; UD tags absent: "
                    f"{', '.join(sorted(UD_TAGS - set(tagset))) or 'none'}", 88))

# %%
# Where the data is the Turkish stand-in, these are the tags of Google's
# universal tag set (Petrov et al., 2012: ``CONJ``, ``PRT``...) with ``AFFIX``
# and ``ONOM`` added, not the 17 UD tags of English-EWT.
vocabulary = Vocabulary.build((w for s in train_words for w in s), min_count=hp.min_count,
                              specials=("<pad>", "<unk>"), unknown="<unk>")
alphabet = Vocabulary.build((c for s in train_words for w in s for c in w), specials=("<pad>", "<unk>"),
                            unknown="<unk>")
seen = {w for s in train_words for w in s}


def arrays(words, tags, max_length=None):
    """Padded (word ids, character ids, tag ids) and a mask of the words never seen in training."""
    word_ids = pad_sequences([vocabulary.encode(s) for s in words], max_length=max_length)
    tag_ids = pad_sequences([[tagset.index(t) for t in s] for s in tags], max_length=max_length)
    chars = char_ids(words, alphabet, hp.word_length, word_ids.shape[1])
    unseen = pad_sequences([[w not in seen for w in s] for s in words], max_length=max_length).astype(bool)
    return word_ids, chars, tag_ids, unseen


train_arrays = arrays(train_words, train_tags, hp.max_length)[:3]
valid_arrays, test_arrays = arrays(valid_words, valid_tags), arrays(test_words, test_tags)
test_real, test_unseen = test_arrays[0] != 0, test_arrays[3]
n_test, n_unseen = int(test_real.sum()), int(test_unseen.sum())
print(f"training {len(train_words):,} sentences; vocabulary {len(vocabulary):,} words seen "
      f"{hp.min_count}+ times;\ntest {len(test_words):,} sentences, {n_test:,} words, "
      f"{n_unseen / n_test:.1%} never seen in training")

# %%
# The baseline: a lookup table
# ----------------------------
# Each training word's most frequent tag; an unseen word takes the most
# frequent tag of the training words that end like it (the longest suffix
# seen, up to ``k`` letters), else the most frequent tag
# (:class:`torchflow.baselines.tags.MostFrequentTag`). ``k`` is chosen on the
# validation sentences. The noise of an accuracy is its binomial standard error
# over the test words.
suffix, suffix_scores = choose_suffix_length(train_words, train_tags, valid_words, valid_tags, hp.suffix_lengths)
print(textwrap.fill("validation accuracy by suffix length: "
                    + ", ".join(f"{k}: {v:.2%}" for k, v in suffix_scores.items()) + f" -> {suffix}", 88))
lookup = MostFrequentTag(suffix).fit(train_words, train_tags)
lookup_all, lookup_unseen, _ = lookup.accuracy(test_words, test_tags)
ACC, UNSEEN = "test accuracy", "unseen-word accuracy"
HEAD = "both ways + characters"
for name in MODELS:
    run.baseline(f"{ACC}, {name}", lookup_all, f"most frequent tag, suffix <= {suffix}",
                 noise=proportion_standard_error(lookup_all, n_test), higher_is_better=True)
run.baseline(f"{UNSEEN}, {HEAD}", lookup_unseen, f"suffix lookup <= {suffix}",
             noise=proportion_standard_error(lookup_unseen, n_unseen), higher_is_better=True)
print(f"lookup: {lookup_all:.2%} of the test words, {lookup_unseen:.2%} of the unseen ones")
run.expect(f"{ACC}, {HEAD}", above_baseline_by=torchflow.scaled(smoke=None, cpu=0.0, full=0.01))
run.expect(f"{UNSEEN}, {HEAD}", above_baseline_by=torchflow.scaled(smoke=None, cpu=0.0, full=0.02))
# smoke: beat always answering the most frequent tag (a step that does not learn does not)
common = np.bincount(train_arrays[2][train_arrays[0] != 0], minlength=len(tagset)).argmax()
common_share = float((test_arrays[2][test_real] == common).mean())
run.expect(f"{ACC}, {HEAD}", at_least=torchflow.scaled(smoke=common_share + 0.05, cpu=None, full=None))


def fit(train_step, evaluate, clock):
    """``hp.steps`` optimiser steps on the shared batches; the validation accuracy curve."""
    curve = []
    for step, index in enumerate(batch_indices(len(train_arrays[0]), hp.batch_size, hp.steps, hp.seed), 1):
        with clock:
            train_step(*(a[index] for a in train_arrays))
        if step % hp.eval_every == 0 or step == hp.steps:
            curve.append(evaluate())
    return curve


def trim(words, chars, tags):
    """Cut a batch to its longest sentence, rounded up to 16 words (two shapes: each traced once)."""
    length = max(16, -(-int((words != 0).sum(1).max()) // 16) * 16)
    return words[:, :length], chars[:, :length], tags[:, :length]


def kwargs(name):
    cls, both = MODELS[name]
    common = dict(vocab_size=len(vocabulary), tagset_size=len(tagset), embedding_dim=hp.embedding_dim,
                  hidden_dim=hp.hidden_dim, bidirectional=both)
    if cls == "CharLSTMTagger":
        common |= dict(alphabet_size=len(alphabet), char_embedding_dim=hp.char_embedding_dim,
                       char_hidden_dim=hp.char_hidden_dim)
    return common


def valid_accuracy(predict):
    words, chars, tags, _ = valid_arrays
    return float((predict(words, chars) == tags)[words != 0].mean())


results, initial_weights = {}, {}

# %%
# The twins
# ---------
# .. tab-set::
#    :sync-group: framework
#
#    .. tab-item:: PyTorch
#       :sync: torch
#
#       .. literalinclude:: /../torchflow/pt/tagger.py
#          :language: python
#          :lines: 37-
#
#    .. tab-item:: TensorFlow
#       :sync: tensorflow
#
#       .. literalinclude:: /../torchflow/tf/tagger.py
#          :language: python
#          :lines: 35-
#
# Training the PyTorch twin
# -------------------------
# The step: scores of every position, the masked cross-entropy, ``backward``,
# ``step``. The LSTMs are built with Keras' initialisation
# (:func:`torchflow.pt.layers.keras_recurrent_init`).
if run.trains("torch"):
    import torch
    import torch.nn.functional as F

    from torchflow.convert import torch_state
    from torchflow.pt import tagger

    torch_twin = run.twin("torch", mode="eager")
    dev = torch_twin.device

    def scores_of(model, words, chars):
        words = torch.as_tensor(words, device=dev)
        return model(words) if isinstance(model, tagger.LSTMTagger) else model(words, torch.as_tensor(chars,
                                                                                                        device=dev))

    def make_train_step(model, optimizer):
        def train_step(words, chars, tags):
            words, chars, tags = trim(words, chars, tags)
            scores = scores_of(model, words, chars)  # (B, T, tags)
            words, tags = torch.as_tensor(words, device=dev), torch.as_tensor(tags, device=dev)
            mask = (words != 0).float()
            losses = F.cross_entropy(scores.transpose(1, 2), tags, reduction="none")  # (B, T)
            loss = (losses * mask).sum() / mask.sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return train_step

    results["torch"] = {}
    for name, (cls, _) in MODELS.items():
        torch.manual_seed(hp.seed)
        model = getattr(tagger, cls)(**kwargs(name)).to(dev)
        initial_weights[name] = torch_state(model)
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad],
                                     lr=hp.learning_rate[cls], eps=hp.adam_epsilon)

        @torch.no_grad()
        def predict(words, chars, model=model):
            return scores_of(model, words, chars).argmax(-1).cpu().numpy()

        clock = StepClock()
        curve = fit(make_train_step(model, optimizer), lambda predict=predict: valid_accuracy(predict), clock)
        print(f"PyTorch, {name}: validation accuracy {curve[-1]:.2%}")
        results["torch"][name] = dict(curve=curve, clock=clock, predicted=predict(*test_arrays[:2]))

# %%
# Training the TensorFlow twin
# ----------------------------
# The same step under a ``GradientTape`` in a ``tf.function``, from the PyTorch
# twin's initial weights (:func:`torchflow.convert.copy_torch_to_keras` maps
# the LSTM's gates and biases, both directions). The gradients are made dense
# before Adam, as :mod:`torchflow.tf.layers` explains.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.convert import copy_torch_to_keras
    from torchflow.tf import tagger

    tf_twin = run.twin("tensorflow", mode="tf.function")
    keras.utils.set_random_seed(hp.seed)

    def make_train_step(model, optimizer):
        @tf.function(reduce_retracing=True)
        def train_step(words, chars, tags):
            with tf.GradientTape() as tape:
                scores = model(words) if isinstance(model, tagger.LSTMTagger) else model(words, chars)
                mask = tf.cast(words != 0, scores.dtype)
                losses = tf.nn.sparse_softmax_cross_entropy_with_logits(tags, scores)  # (B, T)
                loss = tf.reduce_sum(losses * mask) / tf.reduce_sum(mask)
            gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return lambda *batch: train_step(*trim(*batch))

    results["tensorflow"] = {}
    with tf.device(tf_twin.device):
        for name, (cls, _) in MODELS.items():
            model = getattr(tagger, cls)(**kwargs(name))
            if name in initial_weights:
                copy_torch_to_keras(initial_weights[name], model)
            optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate[cls], epsilon=hp.adam_epsilon)

            def predict(words, chars, model=model):
                scores = model(tf.constant(words)) if isinstance(model, tagger.LSTMTagger) else model(
                    tf.constant(words), tf.constant(chars))
                return tf.argmax(scores, -1).numpy()

            clock = StepClock()
            curve = fit(make_train_step(model, optimizer), lambda predict=predict: valid_accuracy(predict), clock)
            print(f"TensorFlow, {name}: validation accuracy {curve[-1]:.2%}")
            results["tensorflow"][name] = dict(curve=curve, clock=clock, predicted=predict(*test_arrays[:2]))

# %%
# Results
# -------
# Accuracy over the test words and over the words never seen in training, each
# tagger against the lookup table, ± the binomial standard error.
for fw, models in results.items():
    metrics, noise = {}, {}
    for name, r in models.items():
        r["all"] = float((r["predicted"] == test_arrays[2])[test_real].mean())
        r["unseen"], _ = unseen_word_accuracy(r["predicted"], test_arrays[2], test_unseen)
        metrics |= {f"{ACC}, {name}": r["all"], f"{UNSEEN}, {name}": r["unseen"]}
        noise |= {f"{ACC}, {name}": proportion_standard_error(r["all"], n_test),
                  f"{UNSEEN}, {name}": proportion_standard_error(r["unseen"], n_unseen)}
    clock = combined_clock(r["clock"] for r in models.values())
    run.record(fw, metrics, noise=noise, device=str((torch_twin if fw == "torch" else tf_twin).device), clock=clock)
verdict = run.verdict()
verdict

# %%
print(f"{'twin':<11}{'tagger':<24}{'all words':>10}{'unseen':>9}")
print(f"{'':<11}{'lookup table':<24}{lookup_all:>10.2%}{lookup_unseen:>9.2%}")
for fw, models in results.items():
    for name, r in models.items():
        print(f"{torchflow.frameworks.label(fw):<11}{name:<24}{r['all']:>10.2%}{r['unseen']:>9.2%}")
for fw, models in results.items():
    one, both = models["one-way"]["all"], models["both ways"]["all"]
    print(f"{torchflow.frameworks.label(fw)}: reading both ways moves the word tagger "
          f"{one:.2%} -> {both:.2%} ({100 * (both - one):+.1f} points)")
if verdict.below_baseline and run.budget != "smoke":
    print(textwrap.fill(f"In the '{run.budget}' budget ({hp.steps:,} steps of {hp.batch_size} sentences) "
                        f"these taggers do not beat the lookup table ({lookup_all:.2%}): "
                        + ", ".join(f"{torchflow.frameworks.label(fw)} {name} {r['all']:.2%}"
                                    for fw, models in results.items() for name, r in models.items()
                                    if r["all"] <= lookup_all) + ". Unmeasured: whether more steps or "
                        "pretrained embeddings close it; the word-only taggers know nothing of an unseen word "
                        "but its position.", 88))

# %%
# Tagged test sentences
# ---------------------
# Two test sentences tagged by each PyTorch tagger (or the TensorFlow one):
# ``word/TAG``, a wrong tag as ``✗PREDICTED (true TAG)``, a word never seen in
# training as ``_word_``.
first = next(iter(results.values()), {})
for index in (0, 1):
    for name, r in first.items():
        shown = []
        for position, (word, tag) in enumerate(zip(test_words[index], test_tags[index])):
            guess = tagset[r["predicted"][index, position]]
            word = word if word in seen else f"_{word}_"
            shown.append(f"{word}/{tag}" if guess == tag else f"{word}/✗{guess} ({tag})")
        print(textwrap.fill(f"{name}: {' '.join(shown)}", 88, subsequent_indent="    "))
    print()

# %%
# Validation accuracy over training, and the confusions
# -----------------------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
for fw, models in results.items():
    for (name, r), style in zip(models.items(), (":", "--", "-")):
        axes[0].plot(hp.eval_every * np.arange(1, len(r["curve"]) + 1), r["curve"], linestyle=style,
                     color=FRAMEWORK_COLOURS.get(fw), label=f"{torchflow.frameworks.label(fw)}, {name}")
axes[0].axhline(suffix_scores[suffix], color="grey", label="lookup table")
axes[0].set(xlabel="optimiser step", ylabel="validation accuracy", title="taggers against the lookup table")
axes[0].legend(fontsize=7)
if first:
    matrix = confusion_matrix(test_arrays[2][test_real], first[HEAD]["predicted"][test_real], len(tagset))
    plot_confusion(matrix, tagset, ax=axes[1], title=f"test confusions, {HEAD}")
fig.tight_layout()

# %%
# Comparison
# ----------
# The twins started from the same weights and saw the same batches.
run.compare()

# %%
record = run.finish()
