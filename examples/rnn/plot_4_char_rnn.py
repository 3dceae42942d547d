"""
A character-level language model of Shakespeare
===============================================

A character-level recurrent network reads text one character at a time and
predicts the next one. Trained on Shakespeare, it can learn spelling, line
breaks, speaker names in capitals and some grammar, with no notion of words
given to it. Fed its own predictions back as input, it writes new text (the
samples at the end show how much of that this page's twins have learned).

This page trains the PyTorch twin (``nn.LSTM``) and the TensorFlow twin
(``keras.layers.LSTM``) on the same batches, measures them in bits per
character on held-out text against two counting baselines, and samples from
both at three temperatures.
"""

# sphinx_gallery_thumbnail_number = 1

# %%
# The model and the loss
# ----------------------
# The input is a window of :math:`T = 25` characters, the target the same
# window shifted by one: at every step the network predicts the next character,
# and the loss is the cross-entropy of all 25 predictions (the notes sum it over
# the time steps; we average it, which divides the gradient by 25, a constant
# that Adam's step does not see, and gives the loss per character)::
#
#     characters (B, 25) -> embedding (B, 25, 32) -> LSTM (B, 25, H) -> dense -> logits (B, 25, V)
#
# In bits, :math:`\text{bpc} = \text{cross-entropy in nats} / \ln 2`: the average
# number of bits an ideal coder driven by the model would spend per character.
# Two baselines that only count: the **unigram** model gives every character its
# frequency; the **bigram** model its frequency after the previous character.
# The network must beat both, the unigram by at least one bit.
#
# Carrying the hidden state: truncated backpropagation through time
# --------------------------------------------------------------------
# The text is cut into :math:`B` long streams (one per row of the batch), and
# batch :math:`k` holds characters :math:`25k \dots 25k + 24` of every stream, so
# row :math:`b` of batch :math:`k+1` continues row :math:`b` of batch :math:`k`
# (:func:`torchflow.data.characters.text_streams`). The final state of a batch
# is then the right initial state for the next one, and the network can use
# context older than 25 characters. But the gradient must stop at the batch
# boundary: otherwise the backward pass of step :math:`k` would run through every
# earlier batch (and PyTorch would complain that their graph is already
# freed). That is *truncated* backpropagation through time:
#
# * PyTorch: ``state = tuple(s.detach() for s in state)`` after each step keeps
#   the values and drops the graph behind them;
# * TensorFlow: the state leaves the ``tf.function`` as a plain tensor and comes
#   back in as an input; the ``GradientTape`` of the next step never saw how it
#   was computed, so nothing flows back through it. (Keras' ``stateful=True``
#   layers keep the state in variables instead; passing it explicitly keeps the
#   two twins alike.)
#
# At the start of each pass over the text (an epoch) the state is reset to zero:
# the last state of the previous pass belongs to the end of the streams, not to
# their beginning.
#
# Hyperparameters, declared once
# ------------------------------
# A single LSTM layer of 128 units (the notes give no size) and 64 streams, set
# for this budget on two CPU cores and not tuned; Adam's learning rate, 3e-3,
# was chosen over 1e-3 on a validation slice cut from the end of the training
# text (``benchmarks/rnn-cpu.md``, a past measurement). The held-out text, the
# last tenth, is used once.
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data.characters import Alphabet, text_streams
from torchflow.data.shakespeare import load_shakespeare
from torchflow.metrics import ngram_bits_per_char
from torchflow.training import StepClock, sample_sequence

run = torchflow.Run("char-rnn")
hp = SimpleNamespace(
    seq_len=25,
    streams=64,
    embedding_dim=32,
    hidden_dim=128,
    cell="lstm",
    learning_rate=3e-3,
    adam_epsilon=1e-8,
    steps=torchflow.scaled(smoke=30, cpu=1_200, full=10_000),
    eval_every=torchflow.scaled(smoke=30, cpu=300, full=1_000),
    eval_chars=torchflow.scaled(smoke=20_000, cpu=100_000, full=None),  # of the held-out text; None: all
    temperatures=(0.5, 1.0, 1.5),
    sample_length=torchflow.scaled(smoke=80, cpu=400, full=600),
    seed=0,
)
hp

# %%
# Data
# ----
# About 1.1 million characters of Shakespeare: the tiny-shakespeare file, or,
# offline, nine plays in modern spelling that ship with the book. The last tenth
# is held out; the last 5 % of the rest is the validation slice.
corpus = load_shakespeare()
run.use_data(corpus)
train_text, test_text = corpus.split(0.9)
alphabet = Alphabet.of(corpus.text)
train_ids, test_ids = alphabet.encode(train_text), alphabet.encode(test_text)
cut = int(len(train_ids) * 0.95)
train_ids, val_ids = train_ids[:cut], train_ids[cut:]
test_ids = test_ids[: hp.eval_chars]
rows = text_streams(train_ids, hp.streams)  # (64, N): 64 contiguous streams
per_epoch = (rows.shape[1] - 1) // hp.seq_len
print(f"{len(alphabet)} distinct characters; train {len(train_ids):,}, validation {len(val_ids):,}, "
      f"held-out {len(test_ids):,} characters; {per_epoch} steps per pass over the training text")

unigram = ngram_bits_per_char(train_ids, test_ids, len(alphabet), order=1)
bigram = ngram_bits_per_char(train_ids, test_ids, len(alphabet), order=2)
print(f"held-out bits per character: unigram {unigram:.3f}, bigram {bigram:.3f}")
METRIC = "held-out bits per character"
run.expect(METRIC, at_most=torchflow.scaled(smoke=None, cpu=min(unigram - 1, bigram), full=min(unigram - 1, bigram)))


def window(step):
    """Inputs and targets (64, 25) of a training step, and whether it starts a pass (reset the state)."""
    k = (step - 1) % per_epoch
    start = k * hp.seq_len
    return rows[:, start : start + hp.seq_len], rows[:, start + 1 : start + hp.seq_len + 1], k == 0


def bits_per_char(nats_of, ids, streams=50):
    """Bits per character of ``ids`` cut into ``streams`` rows, each read from a zero state."""
    chunk = text_streams(ids, streams)
    return nats_of(chunk[:, :-1], chunk[:, 1:]) / np.log(2)


results = {}

# %%
# The twins
# ---------
#
# .. tab-set::
#
#    .. tab-item:: PyTorch
#
#       .. literalinclude:: /../torchflow/pt/rnn.py
#          :language: python
#          :pyobject: CharRNN
#
#    .. tab-item:: TensorFlow
#
#       .. literalinclude:: /../torchflow/tf/rnn.py
#          :language: python
#          :pyobject: CharRNN
#
# Training the PyTorch twin
# -------------------------
if run.trains("torch"):
    import torch

    from torchflow.pt.rnn import CharRNN

    torch.manual_seed(hp.seed)
    torch_model = CharRNN(len(alphabet), hp.embedding_dim, hp.hidden_dim, hp.cell)
    optimizer = torch.optim.Adam([p for p in torch_model.parameters() if p.requires_grad], lr=hp.learning_rate,
                                 eps=hp.adam_epsilon)

    @torch.no_grad()
    def torch_nats(inputs, targets):
        logits, _ = torch_model(torch.as_tensor(inputs))
        return torch.nn.functional.cross_entropy(logits.transpose(1, 2), torch.as_tensor(targets)).item()

    clock, curve, state = StepClock(), [], None
    for step in range(1, hp.steps + 1):
        inputs, targets, new_pass = window(step)
        if new_pass:
            state = None  # a new pass over the text: start from a zero state
        with clock:
            logits, state = torch_model(torch.as_tensor(inputs), state)
            loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), torch.as_tensor(targets))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            state = tuple(s.detach() for s in state)  # keep the values, cut the graph: truncated BPTT
        if step % hp.eval_every == 0 or step == hp.steps:
            curve.append((step, loss.item() / np.log(2), bits_per_char(torch_nats, val_ids)))
            print(f"step {step}: train {curve[-1][1]:.3f}, validation {curve[-1][2]:.3f} bits per character")

    @torch.no_grad()
    def torch_next(ids, state):
        logits, state = torch_model(torch.as_tensor(ids), state)
        return logits[0, -1].numpy(), state

    results["torch"] = dict(clock=clock, curve=curve, device="cpu", bpc=bits_per_char(torch_nats, test_ids),
                            next_logits=torch_next)

# %%
# Training the TensorFlow twin
# ----------------------------
# The state enters and leaves the compiled step as tensors, zeros at the start
# of each pass. One more difference: the gradient of an ``Embedding`` is an
# ``IndexedSlices`` (one slice per looked-up character), and Keras' Adam squares
# it slice by slice: a character read k times in a batch adds k squares to
# Adam's second moment where PyTorch's dense gradient adds the square of their
# sum (``tests/test_parity_seq2seq.py`` measures the difference on an
# embedding). ``tf.convert_to_tensor`` sums the slices first, as PyTorch does;
# the trajectory tests (``tests/test_parity_rnn.py``) train both twins that way
# from the same weights and bound how far apart they drift.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.tf.rnn import CharRNN

    keras.utils.set_random_seed(hp.seed)
    tf_model = CharRNN(len(alphabet), hp.embedding_dim, hp.hidden_dim, hp.cell)
    optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate, epsilon=hp.adam_epsilon)

    @tf.function
    def train_step(inputs, targets, state):
        with tf.GradientTape() as tape:
            logits, state = tf_model(inputs, state)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits))
        gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, tf_model.trainable_variables)]
        optimizer.apply_gradients(zip(gradients, tf_model.trainable_variables))
        return loss, state

    nats_fn = tf.function(lambda inputs, targets: tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(targets, tf_model(inputs)[0])))

    def tf_nats(inputs, targets):
        return float(nats_fn(tf.constant(inputs), tf.constant(targets)))

    zeros = [tf.zeros([hp.streams, hp.hidden_dim])] * (2 if hp.cell == "lstm" else 1)
    clock, curve, state = StepClock(), [], zeros
    for step in range(1, hp.steps + 1):
        inputs, targets, new_pass = window(step)
        if new_pass:
            state = zeros
        with clock:
            loss, state = train_step(tf.constant(inputs), tf.constant(targets), state)
        if step % hp.eval_every == 0 or step == hp.steps:
            curve.append((step, float(loss) / np.log(2), bits_per_char(tf_nats, val_ids)))
            print(f"step {step}: train {curve[-1][1]:.3f}, validation {curve[-1][2]:.3f} bits per character")

    next_fn = tf.function(lambda ids, state: tf_model(ids, state))

    def tf_next(ids, state):  # sampling: one compiled step per character
        logits, state = next_fn(tf.constant(ids), [tf.zeros([1, hp.hidden_dim])] * len(zeros) if state is None
                                else state)
        return logits[0, -1].numpy(), state

    results["tensorflow"] = dict(clock=clock, curve=curve, device="cpu", bpc=bits_per_char(tf_nats, test_ids),
                                 next_logits=tf_next)

# %%
# Results
# -------
# Held-out bits per character of each twin (lower is better) against the
# target: one bit below the unigram baseline and below the bigram baseline.
run.record_all(results, lambda r: {METRIC: r["bpc"]})
run.verdict()

# %%
for name, r in results.items():
    print(f"{torchflow.frameworks.label(name)}: {r['bpc']:.3f} bits per character on held-out text "
          f"({unigram - r['bpc']:.2f} below the unigram baseline {unigram:.3f}, "
          f"{bigram - r['bpc']:.2f} below the bigram baseline {bigram:.3f})")
if len(results) == 2:
    a, b = results["torch"]["bpc"], results["tensorflow"]["bpc"]
    print(f"the twins differ by {abs(a - b) / min(a, b):.1%} of the better score")

# %%
# Training curves
# ---------------
# Bits per character of the last training batch and of the validation slice,
# with the baselines.
fig, ax = plt.subplots(figsize=(7, 4))
for name, r in results.items():
    steps, train_bpc, val_bpc = zip(*r["curve"])
    line, = ax.plot(steps, val_bpc, marker="o", label=f"{torchflow.frameworks.label(name)} validation")
    ax.plot(steps, train_bpc, linestyle=":", color=line.get_color(), label=f"{torchflow.frameworks.label(name)} train")
ax.axhline(unigram, color="grey", linestyle="--", label="unigram (held-out)")
ax.axhline(bigram, color="black", linestyle="--", label="bigram (held-out)")
ax.set_xlabel("optimiser step")
ax.set_ylabel("bits per character")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Sampling at three temperatures
# ------------------------------
# Each twin is primed with the same line and then draws one character at a
# time from :math:`\mathrm{softmax}(\text{logits} / \tau)`, feeding it back as the
# next input with the carried state (:func:`torchflow.training.sample_sequence`).
# The temperature :math:`\tau` sharpens (:math:`\tau < 1`: safer, more
# repetitive) or flattens (:math:`\tau > 1`: more surprising, more misspelt)
# the distribution. Both twins use the same uniform random numbers, but they
# are different networks, so their texts differ.
prime = "\n"
for temperature in hp.temperatures:
    for name, r in results.items():
        ids = sample_sequence(r["next_logits"], alphabet.encode(prime), hp.sample_length, temperature,
                              np.random.default_rng(hp.seed))
        print(f"--- {torchflow.frameworks.label(name)}, temperature {temperature} ---")
        print(alphabet.decode(ids))

# %%
# Comparison
# ----------
for name, r in results.items():
    print(f"{torchflow.frameworks.label(name)}: {r['bpc']:.3f} bits per character, "
          f"{1000 * r['clock'].seconds_per_step:.2f} ms per step")
record = run.finish()
