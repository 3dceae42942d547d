"""
An LSTM part-of-speech tagger, with and without character features
==================================================================

A part-of-speech tagger labels each word of a sentence with its grammatical
class: noun, verb, adjective, punctuation... The same word can take different
tags ("that" is a determiner in "read that book" and a conjunction in "said
that"), so the tagger must read the sentence, not look words up one by one.

The tagger here is the notes' one: each word's **embedding** goes into an
**LSTM**, and the LSTM's state at each word, which has read the sentence up to
that word, is mapped to scores for the tags. Then the same tagger gets a second,
**character-level LSTM** that reads each word letter by letter; its state after
the last letter is joined to the word's embedding. Endings carry much of a
word's class (English "-ly" adverbs, "-ed" verbs), and a word never seen in
training has no embedding of its own, but it does have letters. Both taggers are
trained in PyTorch and in TensorFlow, from the same initial weights, on the same
batches.

**Data and departures from the notes.** The notes train on two toy sentences;
this page starts there, then trains on a real treebank. The book's offline
corpus is the Turkish Web Treebank (Universal Dependencies, 14 universal tags),
not English: no English tagged corpus ships offline. Turkish builds words from
long chains of suffixes, so many test words never occur in training (the page
counts them). Where the UD English-EWT treebank can be downloaded, the page uses
it instead (the data line at the bottom says which one it used). On the
treebank the sizes are larger than the notes' (an embedding of 32 and an LSTM of
64 units instead of 6 and 16) and the batches hold 32 sentences instead of one,
so that a minute of CPU time trains a useful tagger.
"""

# sphinx_gallery_thumbnail_number = 4

# %%
# The notes' toy tagger
# ---------------------
# Two sentences, a vocabulary of 9 words, 3 tags; an embedding of 6 and an LSTM
# of 16 units, the notes' sizes. A sentence of 4 words flows as
# ``[4]`` ids → ``[4, 6]`` embeddings → ``[4, 16]`` LSTM states → ``[4, 3]`` tag
# scores (here with a batch dimension in front: the twins read batches of
# sentences, ``batch_first``).
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data import load_pos
from torchflow.data.words import Vocabulary, char_ids, pad_sequences
from torchflow.flow import draw_flows, trace_twins
from torchflow.metrics import confusion_matrix
from torchflow.plot import FRAMEWORK_COLOURS, plot_confusion
from torchflow.training import StepClock, batch_indices, combined_clock

toy_sentences = [("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
                 ("Everybody read that book".split(), ["NN", "V", "DET", "NN"])]
toy_words = Vocabulary.build((w for s, _ in toy_sentences for w in s), specials=("<pad>",))
toy_tags = ("DET", "NN", "V")
toy_x = pad_sequences([toy_words.encode(s) for s, _ in toy_sentences])
toy_y = pad_sequences([[toy_tags.index(t) for t in tags] for _, tags in toy_sentences])
print(f"'Everybody read that book' -> ids {toy_words.encode(toy_sentences[1][0]).tolist()}, "
      f"tags {[toy_tags.index(t) for t in toy_sentences[1][1]]}")
flows = trace_twins("tagger", "LSTMTagger", toy_x[1:, :4], frameworks=torchflow.available_frameworks(),
                    model_kwargs=dict(vocab_size=len(toy_words), tagset_size=3))
fig = draw_flows(flows, title="LSTM tagger: ids -> embeddings -> LSTM states -> tag scores")

# %%
# The loss is the cross-entropy of each real word's tag scores, averaged over
# the words of the batch; the padding (id 0, at the end of shorter sentences)
# is masked out. A one-way LSTM's states at the real words never see the
# padding that follows them, so padding changes no score
# (``tests/test_parity_tagger.py`` checks it).
#
# Hyperparameters, declared once
# ------------------------------
# For the treebank. Each tagger's learning rate was chosen on the validation
# sentences (the last 10% of the training split) among 0.003 and 0.01
# (``benchmarks/embeddings-lr.md``); the test sentences are used once, at the end.
run = torchflow.Run()
hp = SimpleNamespace(
    embedding_dim=32,
    hidden_dim=64,
    char_embedding_dim=16,
    char_hidden_dim=32,
    word_length=10,  # the last 10 letters of a word (its suffixes) feed the character LSTM
    max_length=32,  # training sentences cut at 32 words (to bound the time per step); held-out ones are not cut
    min_count=2,  # words seen once in training share the unknown-word embedding
    batch_size=32,
    learning_rate={"LSTMTagger": 3e-3, "CharLSTMTagger": 1e-2},
    adam_epsilon=1e-8,
    toy_steps=torchflow.scaled(smoke=20, cpu=150, full=150),
    steps=torchflow.scaled(smoke=15, cpu=600, full=5_000),
    eval_every=torchflow.scaled(smoke=15, cpu=100, full=500),
    held_out_size=torchflow.scaled(smoke=60, cpu=None, full=None),  # validation and test sentences (None: all)
    seed=0,
)
MODELS = ("LSTMTagger", "CharLSTMTagger")
GAIN = "unseen-word accuracy gain from characters (points)"
run.expect(GAIN, at_least=torchflow.scaled(smoke=None, cpu=5.0, full=5.0))
run.expect("CharLSTMTagger test accuracy", at_least=torchflow.scaled(smoke=None, cpu=0.8, full=0.85))
hp


# %%
# The training step both twins run, written once per framework below, takes a
# batch of padded word ids, character ids and tags. ``fit`` is the loop both
# share: the same batches for both twins (:func:`torchflow.training.batch_indices`).
def fit(train_step, evaluate, steps, batches_from, clock, batch_size=None):
    """``steps`` optimiser steps on the shared batches; the training loss and validation accuracy curves."""
    curve, valid_curve, losses = [], [], []
    batch_size = batch_size or hp.batch_size
    for step, index in enumerate(batch_indices(len(batches_from[0]), batch_size, steps, hp.seed), 1):
        with clock:
            losses.append(train_step(*(a[index] for a in batches_from)))
        if evaluate is not None and (step % hp.eval_every == 0 or step == steps):
            curve.append(np.mean(losses))
            valid_curve.append(evaluate())
            losses = []
    return curve, valid_curve


def trim(words, chars, tags):
    """Cut a batch to its longest sentence, rounded up to 16 words (two shapes: each traced once)."""
    length = max(16, -(-int((words != 0).sum(1).max()) // 16) * 16)
    return words[:, :length], chars[:, :length], tags[:, :length]


# %%
# Data
# ----
# Words keep their case (a capital marks a proper noun); a Turkish word is kept
# whole (the treebank splits it into inflectional pieces, which the loader joins
# back; the word takes the tag of its last piece).
train_set = load_pos("train", join_pieces=True)
test_set = load_pos("test", join_pieces=True)
run.use_data(train_set, test_set)
cut = int(0.9 * len(train_set))
held_out = slice(0, hp.held_out_size)
train_words, valid_words, test_words = train_set.words[:cut], train_set.words[cut:][held_out], test_set.words[held_out]
train_tags, valid_tags, test_tags = train_set.tags[:cut], train_set.tags[cut:][held_out], test_set.tags[held_out]
tagset = tuple(sorted(set(train_set.tagset) | set(test_set.tagset)))
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
for name, (w, _, _, unseen) in (("validation", valid_arrays), ("test", test_arrays)):
    print(f"{name}: {len(w):,} sentences, {int((w != 0).sum()):,} words, "
          f"{unseen.sum() / (w != 0).sum():.1%} of them never seen in training")
print(f"training: {len(train_words):,} sentences; vocabulary {len(vocabulary):,} words seen at least "
      f"{hp.min_count} times; alphabet {len(alphabet)} characters; tags: {', '.join(tagset)}")
# The tag a model that learned only the tags' frequencies would always answer: its share of the test words.
common = np.bincount([tagset.index(t) for s in train_tags for t in s], minlength=len(tagset)).argmax()
common_share = float((test_arrays[2][test_arrays[0] != 0] == common).mean())
print(f"the most frequent training tag, {tagset[common]}, is {common_share:.1%} of the test words")
# smoke: the character tagger beats always answering that tag (a step that does not learn does not)
run.expect("CharLSTMTagger test accuracy", at_least=torchflow.scaled(smoke=common_share + 0.05, cpu=None, full=None))


def accuracy(predicted, tag_ids, word_ids, unseen):
    """Share of correct tags over the real words, and over the words unseen in training."""
    real = word_ids != 0
    correct = predicted == tag_ids
    return float(correct[real].mean()), float(correct[unseen].mean())


results, initial_weights, devices = {}, {}, {}
kwargs = {"LSTMTagger": dict(vocab_size=len(vocabulary), tagset_size=len(tagset), embedding_dim=hp.embedding_dim,
                             hidden_dim=hp.hidden_dim),
          "CharLSTMTagger": dict(vocab_size=len(vocabulary), tagset_size=len(tagset), alphabet_size=len(alphabet),
                                 embedding_dim=hp.embedding_dim, hidden_dim=hp.hidden_dim,
                                 char_embedding_dim=hp.char_embedding_dim, char_hidden_dim=hp.char_hidden_dim)}

# %%
# The models
# ----------
# .. tab-set::
#
#    .. tab-item:: PyTorch
#
#       .. literalinclude:: /../torchflow/pt/tagger.py
#          :language: python
#          :lines: 25-
#
#    .. tab-item:: TensorFlow
#
#       .. literalinclude:: /../torchflow/tf/tagger.py
#          :language: python
#          :lines: 24-
#
# Training the PyTorch twin
# -------------------------
# The LSTMs are built as ``keras_recurrent_init(nn.LSTM(...))``: Keras' default
# initialisation (Glorot input kernel, orthogonal recurrent kernel, forget-gate
# bias 1) with the second bias PyTorch's LSTM has frozen at zero, since Keras'
# LSTM has one. The step: scores of every position, the masked cross-entropy,
# ``backward``, ``step``. First the toy tagger, then both treebank taggers.
if run.trains("torch"):
    import torch
    import torch.nn.functional as F

    from torchflow.convert import torch_state
    from torchflow.device import torch_device
    from torchflow.pt import tagger

    torch_dev = torch_device()
    devices["torch"] = str(torch_dev)

    def make_train_step(model, optimizer):
        def train_step(words, chars, tags):
            words, chars, tags = (torch.as_tensor(a, device=torch_dev) for a in trim(words, chars, tags))
            scores = model(words) if isinstance(model, tagger.LSTMTagger) else model(words, chars)  # (B, T, tags)
            mask = (words != 0).float()
            losses = F.cross_entropy(scores.transpose(1, 2), tags, reduction="none")  # (B, T)
            loss = (losses * mask).sum() / mask.sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()
        return train_step

    @torch.no_grad()
    def predict(model, words, chars):
        words = torch.as_tensor(words, device=torch_dev)
        if isinstance(model, tagger.LSTMTagger):
            return model(words).argmax(-1).cpu().numpy()
        return model(words, torch.as_tensor(chars, device=torch_dev)).argmax(-1).cpu().numpy()

    torch.manual_seed(hp.seed)
    toy = tagger.LSTMTagger(len(toy_words), len(toy_tags)).to(torch_dev)
    initial_weights["toy"] = torch_state(toy)
    fit(make_train_step(toy, torch.optim.Adam(toy.parameters(), lr=0.1, eps=hp.adam_epsilon)), None, hp.toy_steps,
        (toy_x, np.zeros(toy_x.shape + (1,), np.int64), toy_y), StepClock(), batch_size=2)
    toy_predicted = predict(toy, toy_x[1:, :4], None)[0]
    print("PyTorch toy tagger:", " ".join(f"{w}/{toy_tags[t]}" for w, t in zip(toy_sentences[1][0], toy_predicted)))

    results["torch"] = {}
    for name in MODELS:
        torch.manual_seed(hp.seed)
        model = getattr(tagger, name)(**kwargs[name]).to(torch_dev)
        initial_weights[name] = torch_state(model)
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=hp.learning_rate[name],
                                     eps=hp.adam_epsilon)
        clock = StepClock()
        curve, valid_curve = fit(make_train_step(model, optimizer),
                                 lambda model=model: accuracy(predict(model, *valid_arrays[:2]), valid_arrays[2], valid_arrays[0],
                                                              valid_arrays[3])[0],
                                 hp.steps, train_arrays, clock)
        print(f"PyTorch {name}: step {hp.steps}: loss {curve[-1]:.3f}, validation accuracy {valid_curve[-1]:.2%}")
        results["torch"][name] = dict(curve=curve, valid_curve=valid_curve, clock=clock,
                                      predicted=predict(model, *test_arrays[:2]))

# %%
# Training the TensorFlow twin
# ----------------------------
# The same step under a ``GradientTape``, compiled into a graph by
# ``tf.function`` (XLA, used on the previous pages, was no faster here for the
# LSTMs and took 3 to 6 s to compile each batch shape when measured:
# ``benchmarks/embeddings-cpu.md``); the gradients are
# made dense before Adam, as on the previous pages (an embedding's gradient
# arrives as slices, which Keras' Adam would square one by one). Both taggers
# start from the PyTorch twin's initial weights, copied by
# :func:`torchflow.convert.copy_torch_to_keras`, which also maps the LSTM's
# gates and biases.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.convert import copy_torch_to_keras
    from torchflow.device import tf_device
    from torchflow.tf import tagger

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()
    devices["tensorflow"] = tf_dev

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
            return loss
        return lambda *batch: float(train_step(*trim(*batch)))

    def predict(model, words, chars):
        if isinstance(model, tagger.LSTMTagger):
            return tf.argmax(model(tf.constant(words)), -1).numpy()
        return tf.argmax(model(tf.constant(words), tf.constant(chars)), -1).numpy()

    with tf.device(tf_dev):
        toy = tagger.LSTMTagger(len(toy_words), len(toy_tags))
        if "toy" in initial_weights:
            copy_torch_to_keras(initial_weights["toy"], toy)
        fit(make_train_step(toy, keras.optimizers.Adam(learning_rate=0.1, epsilon=hp.adam_epsilon)), None,
            hp.toy_steps, (toy_x, np.zeros(toy_x.shape + (1,), np.int64), toy_y), StepClock(), batch_size=2)
        toy_predicted = predict(toy, toy_x[1:, :4], None)[0]
        print("TensorFlow toy tagger:",
              " ".join(f"{w}/{toy_tags[t]}" for w, t in zip(toy_sentences[1][0], toy_predicted)))

        results["tensorflow"] = {}
        for name in MODELS:
            model = getattr(tagger, name)(**kwargs[name])
            if name in initial_weights:
                copy_torch_to_keras(initial_weights[name], model)
            optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate[name], epsilon=hp.adam_epsilon)
            clock = StepClock()
            curve, valid_curve = fit(
                make_train_step(model, optimizer),
                lambda model=model: accuracy(predict(model, *valid_arrays[:2]), valid_arrays[2], valid_arrays[0],
                                                              valid_arrays[3])[0],
                hp.steps, train_arrays, clock)
            print(f"TensorFlow {name}: step {hp.steps}: loss {curve[-1]:.3f}, "
                  f"validation accuracy {valid_curve[-1]:.2%}")
            results["tensorflow"][name] = dict(curve=curve, valid_curve=valid_curve, clock=clock,
                                               predicted=predict(model, *test_arrays[:2]))

# %%
# Results
# -------
# Accuracy on the held-out test sentences, over all words and over the words
# never seen in training, for each tagger and each twin; the target is a gain of
# at least 5 points on unseen words from the character features.
for models in results.values():
    for r in models.values():
        r["accuracy"], r["unseen_accuracy"] = accuracy(r["predicted"], test_arrays[2], test_arrays[0], test_arrays[3])
run.record_all({fw: {"clock": combined_clock(r["clock"] for r in models.values()), "device": devices[fw], **models}
                for fw, models in results.items()},
               lambda r: {f"{name} test accuracy": r[name]["accuracy"] for name in MODELS}
               | {f"{name} unseen-word accuracy": r[name]["unseen_accuracy"] for name in MODELS}
               | {GAIN: 100 * (r["CharLSTMTagger"]["unseen_accuracy"] - r["LSTMTagger"]["unseen_accuracy"])})
run.verdict()

# %%
# The accuracy table
# ------------------
rows = [(torchflow.frameworks.label(fw), name, r["accuracy"], r["unseen_accuracy"])
        for fw, models in results.items() for name, r in models.items()]
print(f"{'twin':<11}{'tagger':<16}{'all words':>10}{'unseen words':>14}")
for fw, name, overall, unseen in rows:
    print(f"{fw:<11}{name:<16}{overall:>10.2%}{unseen:>14.2%}")
fig, ax = plt.subplots(figsize=(7, 1 + 0.35 * len(rows)))
ax.axis("off")
ax.table(cellText=[[fw, "with characters" if name == "CharLSTMTagger" else "words only", f"{overall:.1%}",
                    f"{unseen:.1%}"] for fw, name, overall, unseen in rows],
         colLabels=["twin", "tagger", "all words", "unseen words"], loc="center")
ax.set_title("test accuracy")
fig.tight_layout()

# %%
# Tagged test sentences
# ---------------------
# Three test sentences tagged by each PyTorch tagger: each word is written
# ``word/TAG``; a wrong tag is marked ``✗PREDICTED (true TAG)``, and a word
# never seen in training is underlined with ``_``.
first = next(iter(results.values()), {})
for index in (0, 1, 2):
    words, tags = test_words[index], test_tags[index]
    for name, r in first.items():
        shown = []
        for position, (word, tag) in enumerate(zip(words, tags)):
            guess = tagset[r["predicted"][index, position]]
            word = f"_{word}_" if word not in seen else word
            shown.append(f"{word}/{tag}" if guess == tag else f"{word}/✗{guess} ({tag})")
        print(f"{name:>15}: {' '.join(shown)}")
    print()

# %%
# Validation accuracy over training
# ---------------------------------
fig, ax = plt.subplots(figsize=(7, 4))
for fw, models in results.items():
    for name, r in models.items():
        ax.plot(hp.eval_every * np.arange(1, len(r["valid_curve"]) + 1), r["valid_curve"],
                label=f"{torchflow.frameworks.label(fw)} {name}", linestyle="-" if name == "CharLSTMTagger" else "--",
                color=FRAMEWORK_COLOURS.get(fw))
ax.set_xlabel("optimiser step")
ax.set_ylabel("validation accuracy")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()

# %%
# Per-tag confusion matrices
# --------------------------
# True tag against predicted tag over the test words, for the tagger with
# character features of each twin.
real = test_arrays[0] != 0
fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 5.5), squeeze=False)
for ax, (fw, models) in zip(axes[0], results.items()):
    matrix = confusion_matrix(test_arrays[2][real], models["CharLSTMTagger"]["predicted"][real], len(tagset))
    plot_confusion(matrix, tagset, ax=ax, title=f"{torchflow.frameworks.label(fw)}: with characters")
fig.tight_layout()

# %%
# Comparison
# ----------
# The twins started from the same weights and saw the same batches.
if len(results) == 2:
    for name in MODELS:
        a, b = results["torch"][name], results["tensorflow"][name]
        print(f"{name}: test accuracy {a['accuracy']:.2%} vs {b['accuracy']:.2%}, unseen words "
              f"{a['unseen_accuracy']:.2%} vs {b['unseen_accuracy']:.2%}; "
              f"{1000 * a['clock'].seconds_per_step:.1f} vs {1000 * b['clock'].seconds_per_step:.1f} ms per step")
record = run.finish()
