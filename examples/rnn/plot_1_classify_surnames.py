"""
Classifying surnames by language
================================

A recurrent network reads a surname one letter at a time and carries a hidden
state from letter to letter; after the last letter, that state has seen the
whole name, and a dense layer turns it into a score for each of 18 languages.
``Hinton`` is six steps, ``Ng`` two: the same network reads sequences of any
length.

This page trains the PyTorch twin (``nn.GRU``) and the TensorFlow twin
(``keras.layers.GRU``) of that classifier on the same names, first one name at a
time as in the original notes, then in mini-batches of names of different
lengths, where padding must not change what the network predicts.
"""

# sphinx_gallery_thumbnail_number = 1

# %%
# The model
# ---------
# A name of :math:`T` letters is a sequence of one-hot vectors
# :math:`x_1, \dots, x_T \in \{0, 1\}^{L}` over an alphabet of :math:`L` letters.
# The recurrent layer computes :math:`h_t = f(x_t, h_{t-1})` from :math:`h_0 = 0`;
# the classifier keeps only the last state :math:`h_T` and computes logits
# :math:`W h_T + b` over the languages, trained with the cross-entropy of the
# name's language::
#
#     letters (B, T, L) one-hot -> GRU -> h_T (B, 128) -> dense -> logits (B, 18)
#
# The notes use ``nn.RNN`` with a ReLU; we use a GRU (the twins also take
# ``cell="rnn"`` or ``"lstm"``), whose gates keep the gradient alive over long
# names, and Adam rather than plain SGD. The notes lay a name out as
# (seq, batch, letters), PyTorch's default; here both twins are batch-first,
# (batch, seq, letters), Keras' only layout, so that they take the same arrays.
#
# Both twins initialise their GRU as Keras does (Glorot input kernel, orthogonal
# recurrent kernel, zero biases: :func:`torchflow.pt.layers.keras_recurrent_init`
# draws PyTorch's GRU that way), and the parity tests
# (``tests/test_parity_rnn.py``) copy one set of weights into both, the GRU's
# gate order (PyTorch r, z, n; Keras z, r, n) mapped by :mod:`torchflow.convert`,
# and check outputs, loss and every gradient on a padded batch of names.
#
# Hyperparameters, declared once
# ------------------------------
# The hidden size and the number of steps were chosen on the validation split
# (``benchmarks/rnn-cpu.md``, a past measurement: 128 units reached after 1,000
# steps the validation accuracy that 64 units reached after 2,000, 73.3 %); the
# test split is used once, at the end.
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data.characters import Alphabet, one_hot_batch, pad, split_indices
from torchflow.data.surnames import load_surnames
from torchflow.metrics import confusion_matrix
from torchflow.plot import plot_confusion
from torchflow.training import StepClock, batch_indices

run = torchflow.Run()
hp = SimpleNamespace(
    hidden_dim=128,
    cell="gru",
    batch_size=64,
    learning_rate=3e-3,
    adam_epsilon=1e-8,
    steps=torchflow.scaled(smoke=20, cpu=1_000, full=3_000),
    single_steps=torchflow.scaled(smoke=10, cpu=300, full=1_000),  # the batch-of-one loop
    eval_every=torchflow.scaled(smoke=20, cpu=250, full=250),
    held_out=1_200,  # names in each of the validation and test splits
    seed=0,
)
hp

# %%
# Data
# ----
# Surnames labelled with one of 18 languages, accents stripped to ASCII as in
# the notes. The loader says which copy it found: the PyTorch tutorial's
# ``data/names``, or, offline, the stand-in shipped with the book (Faker's
# per-locale surname lists, Finnish in place of Scottish).
data = load_surnames(ascii_only=True)
run.use_data(data)
languages = data.languages
alphabet = Alphabet.of(data.names)
padded, lengths = pad([alphabet.encode(name) for name in data.names])
labels = data.labels
train_index, val_index, test_index = split_indices(len(data), hp.held_out, seed=hp.seed)
print(f"{len(data)} names, {len(languages)} languages, {len(alphabet)} letters, "
      f"{lengths.min()} to {lengths.max()} letters long; train {len(train_index)}, validation "
      f"{len(val_index)}, test {len(test_index)}")

# %%
# A classifier that always answers the most frequent language of the training
# names is the baseline to beat; the target is twice its test accuracy.
majority = np.bincount(labels[train_index], minlength=len(languages)).argmax()
baseline = float((labels[test_index] == majority).mean())
print(f"majority class: {languages[majority]}, test accuracy {baseline:.1%}")
METRIC = "test accuracy"
run.expect(METRIC, at_least=torchflow.scaled(smoke=None, cpu=2 * baseline, full=2 * baseline))
# smoke: the test cross-entropy fell well below the uniform guess's, log 18 nats (a step that does not learn
# stays there); twenty steps learn little more than how frequent each language is
CROSS_ENTROPY = "test cross-entropy (nats)"
run.expect(CROSS_ENTROPY, at_most=torchflow.scaled(smoke=0.9 * np.log(len(languages)), cpu=None, full=None))


def batch(index):
    """One-hot letters (B, T, L), cut to the longest name of the batch, and each name's length."""
    return one_hot_batch(padded, lengths, index, len(alphabet))


def predict_all(logits_of, index, size=500):
    """Logits of the names ``index``, in padded batches of ``size``."""
    return np.concatenate([logits_of(*batch(index[i : i + size])) for i in range(0, len(index), size)])


results = {}

# %%
# Padding, and why the last *real* step
# -------------------------------------
# A mini-batch is one tensor (B, T, L), so shorter names are padded with zero
# vectors up to the longest name of the batch. A recurrent layer that simply
# runs over all T steps would keep updating the state of ``Ng`` through the
# padding, and its "last" state would be the state after, say, nine steps of
# nothing: not the state that the network learned to classify after reading
# ``g``. Each framework stops every sequence at its own length:
#
# * PyTorch: ``pack_padded_sequence(letters, lengths, batch_first=True,
#   enforce_sorted=False)`` packs the batch so that ``nn.GRU`` runs each name
#   for its own number of steps; the final state ``h_n`` is then the state after
#   each name's last real letter;
# * Keras: a boolean mask (``tf.sequence_mask(lengths, T)``) passed to the
#   layer; at a masked step the layer carries the previous state forward
#   unchanged, so the output after step T is the state after the last real letter.
#
# The twins' ``forward``/``call`` take the lengths (below). The results section
# checks that a name's prediction is the same alone and padded in a batch.
#
# .. tab-set::
#
#    .. tab-item:: PyTorch
#
#       .. literalinclude:: /../torchflow/pt/rnn.py
#          :language: python
#          :pyobject: SurnameClassifier
#
#    .. tab-item:: TensorFlow
#
#       .. literalinclude:: /../torchflow/tf/rnn.py
#          :language: python
#          :pyobject: SurnameClassifier
#
# Training the PyTorch twin
# -------------------------
# First the notes' loop: one name per step, drawn at random, a (1, T, L)
# tensor without padding; the line it prints is the validation accuracy after
# those steps. Each step does little work; the mini-batch loop after it
# processes 64 names per step (the results compare the time per step of the
# two loops).
if run.trains("torch"):
    import torch

    from torchflow.pt.rnn import SurnameClassifier

    torch.manual_seed(hp.seed)
    torch_model = SurnameClassifier(len(alphabet), len(languages), hp.hidden_dim, hp.cell)
    trainable = [p for p in torch_model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=hp.learning_rate, eps=hp.adam_epsilon)

    @torch.no_grad()
    def torch_logits(letters, name_lengths):
        return torch_model(torch.as_tensor(letters), torch.as_tensor(name_lengths)).numpy()

    single_clock = StepClock()
    for index in batch_indices(len(train_index), 1, hp.single_steps, seed=hp.seed):
        letters, _ = batch(train_index[index])  # (1, T, L): one name, no padding
        with single_clock:
            loss = torch.nn.functional.cross_entropy(torch_model(torch.as_tensor(letters)),
                                                     torch.as_tensor(labels[train_index[index]]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    single_accuracy = (predict_all(torch_logits, val_index).argmax(1) == labels[val_index]).mean()
    print(f"after {hp.single_steps} steps of one name: validation accuracy {single_accuracy:.1%}")

    # %%
    # Then mini-batches, the same model continuing: pad, pass the lengths, and
    # the loss is the mean cross-entropy over the batch.
    clock, curve = StepClock(), []
    for step, index in enumerate(batch_indices(len(train_index), hp.batch_size, hp.steps, seed=hp.seed), 1):
        letters, name_lengths = batch(train_index[index])
        with clock:
            logits = torch_model(torch.as_tensor(letters), torch.as_tensor(name_lengths))
            loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(labels[train_index[index]]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if step % hp.eval_every == 0 or step == hp.steps:
            curve.append((step, (predict_all(torch_logits, val_index).argmax(1) == labels[val_index]).mean()))
            print(f"step {step}: loss {loss.item():.3f}, validation accuracy {curve[-1][1]:.1%}")
    results["torch"] = dict(clock=clock, single_clock=single_clock, curve=curve, device="cpu",
                            logits_of=torch_logits, test_logits=predict_all(torch_logits, test_index))

# %%
# Training the TensorFlow twin
# ----------------------------
# The same two loops. The step is a ``tf.function`` with an input signature
# whose time axis is ``None``: batches have different lengths, and without it
# TensorFlow would trace a new graph for every new length.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.tf.rnn import SurnameClassifier

    keras.utils.set_random_seed(hp.seed)
    tf_model = SurnameClassifier(len(alphabet), len(languages), hp.hidden_dim, hp.cell)
    optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate, epsilon=hp.adam_epsilon)

    @tf.function(input_signature=[tf.TensorSpec([None, None, len(alphabet)]), tf.TensorSpec([None], tf.int64),
                                  tf.TensorSpec([None], tf.int64)])
    def train_step(letters, name_lengths, targets):
        with tf.GradientTape() as tape:
            logits = tf_model(letters, name_lengths)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits))
        gradients = tape.gradient(loss, tf_model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, tf_model.trainable_variables))
        return loss

    logits_fn = tf.function(lambda letters, name_lengths: tf_model(letters, name_lengths),
                            input_signature=[tf.TensorSpec([None, None, len(alphabet)]),
                                             tf.TensorSpec([None], tf.int64)])

    def tf_logits(letters, name_lengths):
        return logits_fn(letters, name_lengths).numpy()

    single_clock = StepClock()
    for index in batch_indices(len(train_index), 1, hp.single_steps, seed=hp.seed):
        letters, name_lengths = batch(train_index[index])  # (1, T, L): one name, no padding
        with single_clock:
            train_step(letters, name_lengths, labels[train_index[index]])
    single_accuracy = (predict_all(tf_logits, val_index).argmax(1) == labels[val_index]).mean()
    print(f"after {hp.single_steps} steps of one name: validation accuracy {single_accuracy:.1%}")

    clock, curve = StepClock(), []
    for step, index in enumerate(batch_indices(len(train_index), hp.batch_size, hp.steps, seed=hp.seed), 1):
        letters, name_lengths = batch(train_index[index])
        with clock:
            loss = train_step(letters, name_lengths, labels[train_index[index]])
        if step % hp.eval_every == 0 or step == hp.steps:
            curve.append((step, (predict_all(tf_logits, val_index).argmax(1) == labels[val_index]).mean()))
            print(f"step {step}: loss {float(loss):.3f}, validation accuracy {curve[-1][1]:.1%}")
    results["tensorflow"] = dict(clock=clock, single_clock=single_clock, curve=curve, device="cpu",
                                 logits_of=tf_logits, test_logits=predict_all(tf_logits, test_index))

# %%
# Results
# -------
# Test accuracy of each twin against the target, twice the majority baseline.
for r in results.values():
    r["accuracy"] = float((r["test_logits"].argmax(1) == labels[test_index]).mean())
    shifted = r["test_logits"] - r["test_logits"].max(1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))  # log-softmax
    r["cross_entropy"] = float(-log_p[np.arange(len(test_index)), labels[test_index]].mean())
run.record_all(results, lambda r: {METRIC: r["accuracy"], CROSS_ENTROPY: r["cross_entropy"]})
run.verdict()

# %%
for name, r in results.items():
    print(f"{torchflow.frameworks.label(name)}: test accuracy {r['accuracy']:.1%} "
          f"({r['accuracy'] / baseline:.2f} times the majority baseline of {baseline:.1%}); "
          f"one name per step {1000 * r['single_clock'].seconds_per_step:.2f} ms, "
          f"{hp.batch_size} names per step {1000 * r['clock'].seconds_per_step:.2f} ms")
if len(results) == 2:
    a, b = results["torch"]["accuracy"], results["tensorflow"]["accuracy"]
    print(f"the twins differ by {abs(a - b) / max(a, b):.1%} of the better accuracy")

# %%
# Padding does not change a prediction
# ------------------------------------
# Twenty test names, each alone (a batch of one, no padding) and inside one
# padded batch with the lengths: each line prints the largest difference of
# their logits, and whether it is within float32 rounding. Passing the same
# padded batch *without* the lengths lets the state run on through the padding;
# the line prints how far the logits then move and how many predictions change.
sample = test_index[:20]
for name, r in results.items():
    letters, name_lengths = batch(sample)
    padded_logits = r["logits_of"](letters, name_lengths)
    alone = np.concatenate([r["logits_of"](*batch(sample[i : i + 1])) for i in range(len(sample))])
    full_lengths = np.full_like(name_lengths, letters.shape[1])  # "every name is T letters long"
    unmasked_logits = r["logits_of"](letters, full_lengths)
    gap = np.abs(padded_logits - alone).max()
    print(f"{torchflow.frameworks.label(name)}: largest logit difference alone vs padded {gap:.1e} "
          f"({'within' if gap < 1e-4 else 'NOT within'} float32 rounding); without the lengths, the logits move by up to "
          f"{np.abs(unmasked_logits - padded_logits).max():.2f} and "
          f"{(unmasked_logits.argmax(1) != padded_logits.argmax(1)).sum()} of {len(sample)} predictions change")

# %%
# Which languages are confused
# ----------------------------
# Rows: the true language of each test name; columns: the prediction; colours
# are row-normalised. The lines below name each twin's three most frequent
# confusions (true language -> predicted language).
fig, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 6.5), squeeze=False)
for ax, (name, r) in zip(axes[0], results.items()):
    matrix = confusion_matrix(labels[test_index], r["test_logits"].argmax(1), len(languages))
    plot_confusion(matrix, languages, ax=ax, title=f"{torchflow.frameworks.label(name)}: {r['accuracy']:.1%}")
    off = matrix * (1 - np.eye(len(languages), dtype=matrix.dtype))
    worst = np.argsort(off, axis=None)[::-1][:3]
    print(f"{torchflow.frameworks.label(name)}: " + ", ".join(
        f"{languages[i]} -> {languages[j]} ({off[i, j]} names)" for i, j in zip(*np.unravel_index(worst, off.shape))))
fig.tight_layout()

# %%
# Validation accuracy along training
# ----------------------------------
fig, ax = plt.subplots(figsize=(7, 3.5))
for name, r in results.items():
    steps, accuracy = zip(*r["curve"])
    ax.plot(steps, accuracy, label=torchflow.frameworks.label(name))
ax.axhline(2 * baseline, color="grey", linestyle="--", label="target: twice the majority baseline")
ax.set_xlabel("mini-batch step")
ax.set_ylabel("validation accuracy")
ax.legend()
fig.tight_layout()

# %%
# Predicting a name
# -----------------
# ``predict`` prints the ``top_k`` languages with their log-probabilities, as
# the notes' ``predict.py Schmidhuber`` does. A name may contain a letter the
# alphabet has never seen: that is a ``ValueError``, not a silent guess.


def predict(name, top_k=3, framework=None):
    """The ``top_k`` languages of ``name`` with their log-probabilities, for each twin (or one)."""
    if not 1 <= top_k <= len(languages):
        raise ValueError(f"top_k must be between 1 and {len(languages)}, got {top_k}")
    encoded = alphabet.encode(name)
    letters, name_lengths = one_hot_batch(encoded[None], np.array([len(encoded)]), np.array([0]), len(alphabet))
    print(name)
    for fw, r in results.items():
        if framework not in (None, fw):
            continue
        logits = r["logits_of"](letters, name_lengths)[0]
        log_probs = logits - np.logaddexp.reduce(logits)
        best = np.argsort(log_probs)[::-1][:top_k]
        print(f"  {torchflow.frameworks.label(fw)}: " + ", ".join(f"({log_probs[i]:.2f}) {languages[i]}"
                                                                   for i in best))


for surname in ("Schmidhuber", "Hinton", "Bengio", "Nguyen", "Kowalski", "Dostoevsky"):
    predict(surname)

# %%
# Comparison
# ----------
# The same data, batches, initialisation scheme and optimiser settings; the
# initial weights differ (each framework draws its own), so the results need not
# be equal: how far apart they are is printed in the results above.
for name, r in results.items():
    print(f"{torchflow.frameworks.label(name)}: {r['accuracy']:.1%} test accuracy, "
          f"{1000 * r['clock'].seconds_per_step:.2f} ms per mini-batch step")
record = run.finish()
