"""
Translation with an encoder-decoder, with and without attention
===============================================================

An *encoder* GRU reads a French sentence; a *decoder* GRU writes its English
translation one word at a time. The two sentences need not have the same length
or word order ("je ne suis pas le chat noir" -> "i am not the black cat"), which
is why one recurrent network reading and writing in step will not do.

This page trains three decoders on the same encoder, each twice (PyTorch and
TensorFlow 2), and compares them on held-out pairs:

1. the **plain** decoder, which sees the source only through the encoder's last
   hidden state, the *context vector*;
2. the **notes' attention** decoder (the PyTorch tutorial's), which mixes all the
   encoder outputs with weights computed from the current word and the hidden
   state;
3. a **content-based attention** decoder (Luong et al., 2015, "general"), whose
   weights compare the decoder's state with each encoder output.
"""

# sphinx_gallery_thumbnail_number = 2

# %%
# The model
# ---------
# The encoder embeds the source tokens :math:`x_1 \dots x_S` and runs a GRU over
# them, giving one output :math:`\bar h_s` per token; its state after the last
# token, :math:`\bar h_S`, starts the decoder. At step :math:`t` the decoder
# receives the previous English word :math:`y_{t-1}` (a start token at
# :math:`t = 1`) and its state :math:`h_{t-1}`, and gives a distribution over the
# next word, :math:`p(y_t \mid y_{<t}, x)`. Training minimises the negative
# log-likelihood of the reference translation, averaged over its tokens:
#
# .. math::
#
#    \mathcal{L} = -\frac{1}{\sum_b T_b} \sum_b \sum_{t=1}^{T_b} \log p(y^{(b)}_t \mid y^{(b)}_{<t}, x^{(b)}).
#
# The two attention decoders differ in where the weights :math:`a_{t,s}` over
# the source positions come from (both then use the mixture
# :math:`c_t = \sum_s a_{t,s} \bar h_s`):
#
# .. math::
#
#    \text{notes:}\quad a_t = \operatorname{softmax}\big(W_a [e(y_{t-1}); h_{t-1}]\big)
#    \qquad
#    \text{content (Luong "general"):}\quad a_{t,s} = \operatorname{softmax}_s\big(h_t^\top W_a \bar h_s\big).
#
# The notes' weights are computed **without looking at the encoder outputs**: a
# linear layer maps the current word and state to ``max_length`` numbers, one per
# *position*, whatever words stand there. This is a known complaint about the
# original tutorial; the decoder can only learn "at step 3, look near position 3".
# The content-based score compares the state with what each position holds, so
# it can find the source word it needs wherever it is. The measurements below
# decide which works better.
#
# **Departures from the notes.** Sentences are trained in batches of
# ``batch_size`` pairs padded to ``max_length`` tokens (the notes train one pair
# at a time), so the loss is masked: padding tokens carry no loss. The encoder runs
# the GRU over all time steps in one call instead of the tutorial's loop over
# tokens (the notes suggest it); the page checks below that both give the same
# outputs. The tutorial's dropout is left out. Padding is index 0, start 1, end 2.
#
# Dimension flow, with the batch size :math:`B`, source length :math:`S` (= ``max_length``),
# hidden size :math:`H` and English vocabulary :math:`V`::
#
#     source (B, S) -> embedding (B, S, H) -> GRU -> outputs (B, S, H); state (B, H)
#     decoder step: word (B,) -> embedding (B, H)
#       plain:   relu -> GRU cell (B, H) -> linear (B, V) -> log-softmax
#       notes:   [embedding; state] (B, 2H) -> linear (B, S) -> softmax = weights
#                bmm(weights (B, 1, S), outputs (B, S, H)) -> (B, H) -> [embedding; it] -> linear, relu -> GRU cell
#       content: GRU cell (B, H) -> scores with W_a outputs (B, S) -> softmax = weights -> context (B, H)
#                [state; context] (B, 2H) -> linear, tanh (B, H) -> linear (B, V) -> log-softmax
#
# Hyperparameters, declared once
# ------------------------------
# Both twins read these. Each decoder's learning rate was chosen on the
# validation split, the plain decoder's as carefully as the others'
# (``benchmarks/seq2seq-cpu.md``, with this page's steps, sizes and data, the
# test split never scored there: 1e-2, 1.5e-2, 2e-2 and 3e-2 for the plain
# decoder, 3e-3, 5e-3 and 1e-2 for the notes' attention, 3e-3 and 1e-2 for the
# content attention). The budget counts optimiser steps; batches of 128, because
# a step's time on a CPU is mostly the overhead of the 19 decoder steps, so it
# costs little more than a step of 64.
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.data.sentences import encode_batch, prepare_pairs, split_indices
from torchflow.data.translation import load_fra_eng
from torchflow.families import family
from torchflow.metrics import corpus_bleu, exact_match
from torchflow.plot import plot_attention
from torchflow.training import StepClock, batch_indices

run = torchflow.Run()
hp = SimpleNamespace(
    max_length=19,  # tokens with the end token: room for the longest number phrase (below)
    min_count=3,  # pairs holding a rarer word are dropped, as in the notes
    hidden_size=torchflow.scaled(smoke=32, cpu=64, full=256),
    batch_size=128,
    learning_rates={"plain": 2e-2, "notes' attention": 1e-2, "content attention": 3e-3},  # each its best
    adam_epsilon=1e-8,
    teacher_forcing_ratio=0.5,  # the tutorial's
    steps=torchflow.scaled(smoke=10, cpu=400, full=8_000),
    eval_every=torchflow.scaled(smoke=10, cpu=100, full=500),  # validation BLEU during training
    validation_size=torchflow.scaled(smoke=200, cpu=1_000, full=2_000),
    test_size=torchflow.scaled(smoke=200, cpu=2_000, full=5_000),
    content_method="general",
    seed=0,
)
DECODERS = {"plain": ("DecoderRNN", {}),
            "notes' attention": ("AttnDecoderRNN", {"max_length": hp.max_length}),
            "content attention": ("LuongAttnDecoderRNN", {"method": hp.content_method})}
SEQ2SEQ = family("seq2seq")  # the twin classes, by name
GAIN = "BLEU gain of the better attention over the plain decoder (points)"
run.expect(GAIN, at_least=torchflow.scaled(smoke=None, cpu=5, full=5))
# smoke: every variant's training loss fell (a step that does not learn: about 1); BLEU is still near 0 there
LOSS_FALL = "training loss, mean of the last quarter of the steps / of the first quarter"
for variant in DECODERS:
    run.expect(f"{LOSS_FALL}, {variant}", at_most=torchflow.scaled(smoke=0.95, cpu=None, full=None))
hp

# %%
# Data
# ----
# The canonical data are Tatoeba's French-English sentence pairs (the tutorial's
# ``eng-fra.txt``), kept under 10 words as the notes say. Without the network
# the book uses its embedded stand-in, **numbers, not sentences**: the French and
# English words (from the ``num2words`` package) for 31,000 numbers below a
# billion -- every number up to 999, then 5,000 drawn at random for each length
# of 4 to 9 digits (``data/build_text.py``) -- so the phrases run evenly from one
# word to eighteen. ``"trois cent quarante-deux"`` -> ``"three hundred and
# forty-two"``; ``"neuf cent quatre-vingt-dix-neuf millions six cent six mille
# sept cent cinquante-deux"`` -> ``"nine hundred and ninety-nine million, six
# hundred and six thousand, seven hundred and fifty-two"``. It is real text with
# a tiny vocabulary, its own word order (``quatre-vingt-dix``, "four-twenty-ten",
# is ninety; ``soixante et onze``, "sixty and eleven", is seventy-one) and, what
# matters here, long phrases whose every word must come through: a nine-digit
# number has nine digits for the context vector to carry. The notes' limit of
# 10 words would keep only the shorter phrases, which a context vector of 64
# numbers holds whole (``benchmarks/seq2seq-cpu.md`` keeps the measurements of an
# earlier version of this page on the numbers up to 99,999, where the plain
# decoder left attention nothing to gain); so the number phrases are all kept,
# ``max_length = 19`` tokens leaving room for the longest and its end token
# (Tatoeba's sentences keep the notes' limit). FreeDict's dictionary senses, also offline, are
# left out: after the notes' rare-word filter they would add a small share of
# one-to-three-word pairs while multiplying the English vocabulary, and with it
# the cost of every step, many times (``benchmarks/seq2seq-cpu.md`` counts them).
# :func:`torchflow.data.sentences.prepare_pairs` normalises as the tutorial does
# (accents stripped, lowercase, punctuation other than ``.!?`` removed: hyphens
# become spaces) and filters as the notes say; the pairs are then split at random
# into training, validation and test sets.
data = load_fra_eng()
run.use_data(data)
NOTES_MAX_WORDS = 10  # Tatoeba's sentences: under 10 words, as the notes say; the number phrases: all
pairs, french, english = prepare_pairs(data.pairs, max_words=hp.max_length if data.info.is_subset else NOTES_MAX_WORDS,
                                       min_count=hp.min_count)
train_index, test_index, validation_index = split_indices(len(pairs), [hp.test_size, hp.validation_size],
                                                          seed=hp.seed)
source, source_lengths = encode_batch([fr for fr, _ in pairs], french, hp.max_length)
target, _ = encode_batch([en for _, en in pairs], english, hp.max_length)
print(f"{len(pairs):,} pairs kept of {len(data):,}; vocabularies: {len(french)} French, {len(english)} English "
      f"words (with padding, start, end); {len(train_index):,} training, {len(validation_index):,} validation, "
      f"{len(test_index):,} test pairs")
# Test pairs to look at below, spread over the lengths: the first test pair of at
# least 4, 8, 11 and 15 French words (attention matrices), and eight at random
# (sample translations), shortest first.
test_words = np.array([len(pairs[i][0].split()) for i in test_index])
shown = [int(np.argmax(test_words >= n)) for n in (4, 8, 11, 15)]
samples = sorted(np.random.default_rng(hp.seed).choice(len(test_index), 8, replace=False).tolist(),
                 key=lambda k: test_words[k])
for k in shown[::2]:
    i = test_index[k]
    print(f"  {pairs[i][0]!r} -> {pairs[i][1]!r}; tokens {source[i].tolist()} -> {target[i].tolist()}")

# %%
# Both twins train on the same batches and the same teacher-forcing draws. With
# *teacher forcing* the decoder is fed the reference word as its next input;
# without it, its own best guess. The tutorial decides per sentence, with
# probability ``teacher_forcing_ratio``; here one draw per batch and step decides
# for the whole batch, drawn once for both twins. Evaluation decodes greedily:
# the most likely word is fed back, up to ``max_length`` words, and the
# translation is cut at the first end token. The corpus score is BLEU-4
# (:func:`torchflow.metrics.corpus_bleu`, which is sacrebleu's) on the held-out
# pairs' words, with the fraction translated exactly.
teacher = np.random.default_rng(hp.seed + 1).random((hp.steps, hp.max_length)) < hp.teacher_forcing_ratio
batches = list(batch_indices(len(train_index), hp.batch_size, hp.steps, seed=hp.seed))
references = {name: [pairs[i][1] for i in index] for name, index in (("validation", validation_index),
                                                                      ("test", test_index))}
results, initial_weights = {}, {}


def scores(tokens, split):
    """Exact match and BLEU of decoded token rows against the split's references."""
    hypotheses = [english.decode(row) for row in tokens]
    return dict(bleu=corpus_bleu(hypotheses, references[split]), exact=exact_match(hypotheses, references[split]),
                hypotheses=hypotheses)


# %%
# The twins
# ---------
# The same classes, arguments and defaults in both modules; ``decode_loss`` is the
# teacher-forced unrolling of the decoder and its masked loss.
#
# .. tab-set::
#
#    .. tab-item:: PyTorch
#
#       .. literalinclude:: /../torchflow/pt/seq2seq.py
#          :language: python
#          :start-at: class EncoderRNN
#
#    .. tab-item:: TensorFlow
#
#       .. literalinclude:: /../torchflow/tf/seq2seq.py
#          :language: python
#          :start-at: class EncoderRNN
#
# Training the PyTorch twins
# --------------------------
# One encoder and one decoder per variant, one Adam over both. Each step: slice
# the batch, ``decode_loss`` (encode, unroll the decoder with teacher forcing,
# masked NLL), ``backward``, ``step``.
if run.trains("torch"):
    import torch

    from torchflow.pt.seq2seq import EncoderRNN, decode_loss, greedy_decode

    def as_torch(*arrays):
        return [torch.as_tensor(a) for a in arrays]

    from torchflow.convert import torch_state

    torch.manual_seed(hp.seed)
    results["torch"] = {}
    for variant, (class_name, kwargs) in DECODERS.items():
        encoder = EncoderRNN(len(french), hp.hidden_size)
        decoder = SEQ2SEQ.twin("torch", class_name)(len(english), hp.hidden_size, **kwargs)
        initial_weights[variant] = (torch_state(encoder), torch_state(decoder))  # the TensorFlow twins start here
        optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()],
                                     lr=hp.learning_rates[variant], eps=hp.adam_epsilon)
        clock, losses, curve = StepClock(), [], []
        for step, batch in enumerate(batches):
            index = train_index[batch]
            with clock:
                loss = decode_loss(encoder, decoder, *as_torch(source[index], source_lengths[index], target[index],
                                                              teacher[step]))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            losses.append(loss.item())
            if (step + 1) % hp.eval_every == 0:
                tokens, _ = greedy_decode(encoder, decoder, *as_torch(source[validation_index],
                                                                      source_lengths[validation_index]),
                                          max_length=hp.max_length)
                curve.append(scores(tokens.numpy(), "validation")["bleu"])
        outcome = dict(losses=losses, clock=clock, curve=curve)
        for split, index in (("validation", validation_index), ("test", test_index)):
            tokens, attention = greedy_decode(encoder, decoder, *as_torch(source[index], source_lengths[index]),
                                              max_length=hp.max_length)
            outcome[split] = scores(tokens.numpy(), split)
        outcome["attention"] = None if attention is None else attention.numpy()[shown]
        batched, _ = encoder(*as_torch(source[test_index[:16]], source_lengths[test_index[:16]]))
        looped, _ = encoder(*as_torch(source[test_index[:16]], source_lengths[test_index[:16]]), stepwise=True)
        outcome["loop_gap"] = float((batched - looped).abs().max().detach())
        results["torch"][variant] = outcome
        print(f"PyTorch, {variant}: loss {np.mean(losses[-50:]):.3f} (last 50 steps), validation BLEU "
              f"{outcome['validation']['bleu']:.1f}, {1000 * clock.seconds_per_step:.1f} ms per step")

# %%
# Training the TensorFlow twins
# -----------------------------
# The same step under a ``GradientTape``, traced once by ``tf.function``. One
# line differs from a plain Keras step: the embeddings' gradients arrive as
# ``IndexedSlices`` (one slice per token of the batch), and Keras' Adam squares
# them slice by slice, so a row's second moment gets the sum of the squares
# instead of the square of the sum, and a frequent token's row moves several
# times the learning rate in one step (``tests/test_parity_seq2seq.py``); made
# dense, the update is PyTorch's, and the twins train identically in float64.
# Each TensorFlow encoder and decoder starts from its PyTorch twin's initial
# weights (copied with :func:`torchflow.convert.copy_torch_to_keras`), so the
# twins are one experiment and differ by float32 rounding only.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.convert import copy_torch_to_keras
    from torchflow.device import tf_device
    from torchflow.tf.seq2seq import EncoderRNN, decode_loss, greedy_decode

    keras.utils.set_random_seed(hp.seed)
    all_source, all_lengths, all_target = (tf.constant(a, tf.int32) for a in (source, source_lengths, target))
    results["tensorflow"] = {}

    def make_train_step(encoder, decoder, optimizer):
        variables = encoder.trainable_variables + decoder.trainable_variables
        optimizer.build(variables)  # its state exists before tracing: one trace, not two

        @tf.function
        def train_step(index, teacher_forcing):
            with tf.GradientTape() as tape:
                loss = decode_loss(encoder, decoder, tf.gather(all_source, index), tf.gather(all_lengths, index),
                                   tf.gather(all_target, index), teacher_forcing)
            gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]  # dense, see above
            optimizer.apply_gradients(zip(gradients, variables))
            return loss
        return train_step

    for variant, (class_name, kwargs) in DECODERS.items():
        encoder = EncoderRNN(len(french), hp.hidden_size)
        decoder = SEQ2SEQ.twin("tensorflow", class_name)(len(english), hp.hidden_size, **kwargs)
        if variant in initial_weights:  # the PyTorch twins' initial weights, so both twins are one experiment
            for state, model in zip(initial_weights[variant], (encoder, decoder)):
                copy_torch_to_keras(state, model)
        train_step = make_train_step(encoder, decoder, keras.optimizers.Adam(
            learning_rate=hp.learning_rates[variant], epsilon=hp.adam_epsilon))
        clock, losses, curve = StepClock(), [], []
        for step, batch in enumerate(batches):
            with clock:
                losses.append(float(train_step(tf.constant(train_index[batch]), tf.constant(teacher[step]))))
            if (step + 1) % hp.eval_every == 0:
                tokens, _ = greedy_decode(encoder, decoder, tf.gather(all_source, validation_index),
                                          tf.gather(all_lengths, validation_index), max_length=hp.max_length)
                curve.append(scores(tokens.numpy(), "validation")["bleu"])
        outcome = dict(losses=losses, clock=clock, curve=curve)
        for split, index in (("validation", validation_index), ("test", test_index)):
            tokens, attention = greedy_decode(encoder, decoder, tf.gather(all_source, index),
                                              tf.gather(all_lengths, index), max_length=hp.max_length)
            outcome[split] = scores(tokens.numpy(), split)
        outcome["attention"] = None if attention is None else attention.numpy()[shown]
        sample = (tf.gather(all_source, test_index[:16]), tf.gather(all_lengths, test_index[:16]))
        outcome["loop_gap"] = float(tf.reduce_max(tf.abs(encoder(*sample)[0] - encoder(*sample, stepwise=True)[0])))
        results["tensorflow"][variant] = outcome
        print(f"TensorFlow, {variant}: loss {np.mean(losses[-50:]):.3f} (last 50 steps), validation BLEU "
              f"{outcome['validation']['bleu']:.1f}, {1000 * clock.seconds_per_step:.1f} ms per step")

# %%
# The batched encoder is the tutorial's loop
# ------------------------------------------
# One GRU call over the whole padded sequence against the tutorial's loop that
# feeds one token at a time and carries the state: the largest difference of
# the encoder outputs on 16 test sentences, for each trained encoder.
for name, variants in results.items():
    gaps = {variant: outcome["loop_gap"] for variant, outcome in variants.items()}
    assert max(gaps.values()) < 1e-5, gaps
    print(f"{torchflow.frameworks.label(name)}: " + ", ".join(f"{v} {g:.1e}" for v, g in gaps.items()))

# %%
# Results
# -------
# Which attention is better is decided on the validation split, per twin; the
# test split then scores all three. The target is the better attention's gain
# over the plain decoder in test BLEU, set for the data, Tatoeba's
# sentences; the verdict says whether the data this build used reaches it.
for variants in results.values():
    better = max(("notes' attention", "content attention"), key=lambda v: variants[v]["validation"]["bleu"])
    variants["better"] = better
    variants["gain"] = variants[better]["test"]["bleu"] - variants["plain"]["test"]["bleu"]
# the PyTorch tensors stay on the CPU; TensorFlow places its ops on its default device
devices = {"torch": "cpu", "tensorflow": tf_device() if "tensorflow" in results else None}


def loss_fall(losses: list[float]) -> float:
    quarter = max(1, len(losses) // 4)
    return float(np.mean(losses[-quarter:]) / np.mean(losses[:quarter]))


run.record_all({name: dict(v, clock=v["plain"]["clock"], device=devices[name]) for name, v in results.items()}, lambda r: {
    **{f"test BLEU, {variant}": r[variant]["test"]["bleu"] for variant in DECODERS},
    **{f"{LOSS_FALL}, {variant}": loss_fall(r[variant]["losses"]) for variant in DECODERS},
    **{f"test exact match, {variant}": r[variant]["test"]["exact"] for variant in DECODERS},
    GAIN: r["gain"]})
run.verdict()

# %%
# The corpus scores, per twin and decoder (test pairs; BLEU from 0 to 100):
for name, variants in results.items():
    print(f"{torchflow.frameworks.label(name)} (better attention on validation: {variants['better']}):")
    for variant in DECODERS:
        test = variants[variant]["test"]
        print(f"  {variant:18s} BLEU {test['bleu']:5.1f}   exact {test['exact']:.1%}   "
              f"(validation BLEU {variants[variant]['validation']['bleu']:.1f})")
if len(results) == 2:
    for variant in DECODERS:
        a, b = (results[n][variant]["test"]["bleu"] for n in ("torch", "tensorflow"))
        gap = f"{abs(a - b) / max(a, b):.1%}" if max(a, b) > 0 else "none (both zero)"
        print(f"twins' BLEU, {variant}: {a:.1f} vs {b:.1f}, relative gap {gap}")

# %%
# Training curves
# ---------------
# The training loss of each decoder (a running mean over 25 steps), both twins
# on one axis: PyTorch solid, TensorFlow dashed.
fig, ax = plt.subplots(figsize=(7, 4))
for name, variants in results.items():
    for colour, variant in zip(("C0", "C1", "C2"), DECODERS):
        curve = np.convolve(variants[variant]["losses"], np.ones(25) / 25, mode="valid")
        ax.plot(curve, colour, linestyle="-" if name == "torch" else "--",
                label=f"{torchflow.frameworks.label(name)}, {variant}")
ax.set(xlabel="optimiser step", ylabel="masked NLL per token", yscale="log")
ax.legend(fontsize=7)
fig.tight_layout()

# %%
# How fast each decoder learns
# ----------------------------
# Validation BLEU every ``eval_every`` steps (PyTorch solid, TensorFlow dashed),
# and the first evaluation at which each decoder reached 90.
fig, ax = plt.subplots(figsize=(7, 4))
evaluated_at = hp.eval_every * np.arange(1, hp.steps // hp.eval_every + 1)
for name, variants in results.items():
    for colour, variant in zip(("C0", "C1", "C2"), DECODERS):
        ax.plot(evaluated_at, variants[variant]["curve"], colour, marker="o",
                linestyle="-" if name == "torch" else "--", label=f"{torchflow.frameworks.label(name)}, {variant}")
ax.set(xlabel="optimiser step", ylabel="validation BLEU", ylim=(0, 102))
ax.legend(fontsize=7)
fig.tight_layout()
for name, variants in results.items():
    reached = {variant: next((int(s) for s, b in zip(evaluated_at, variants[variant]["curve"]) if b >= 90), None)
               for variant in DECODERS}
    print(f"{torchflow.frameworks.label(name)}: validation BLEU 90 first reached at step " + ", ".join(
        f"{variant} {'not within ' + str(hp.steps) if s is None else s}" for variant, s in reached.items()))

# %%
# Attention matrices
# ------------------
# Where each attention decoder looked while writing four test translations
# (the first twin that ran): one row per English word written, one column per
# French token. The notes' weights can depend on a word only through the
# decoder's own input and state; the content weights compare with the French words.
name = next(iter(results))
fig, axes = plt.subplots(2, 4, figsize=(14, 9))
for row, variant in enumerate(("notes' attention", "content attention")):
    outcome = results[name][variant]
    for col, k in enumerate(shown):
        i = test_index[k]
        words = outcome["test"]["hypotheses"][k].split() + ["<eos>"]
        plot_attention(outcome["attention"][col], pairs[i][0].split() + ["<eos>"], words, ax=axes[row, col],
                       title=f"{variant}" if col == 0 else None)
fig.tight_layout()

# %%
# Sample translations
# -------------------
# Eight test pairs drawn at random and what each decoder of each twin wrote.
for i in samples:
    index = test_index[i]
    print(f"{pairs[index][0]}  ->  {pairs[index][1]}")
    for name, variants in results.items():
        for variant in DECODERS:
            written = variants[variant]["test"]["hypotheses"][i]
            print(f"    {torchflow.frameworks.label(name):10s} {variant:18s} {'✓' if written == pairs[index][1] else '✗'}"
                  f" {written}")

# %%
# Score against sentence length
# -----------------------------
# The single context vector must carry the whole sentence, so the plain decoder
# is expected to fail first on long sentences (Bahdanau et al., 2015, Fig. 2: the
# plain encoder-decoder's BLEU falls with length, the attention model's much
# less). Test BLEU per French sentence length (in words, lengths with at least
# 20 test sentences), each decoder and twin; BLEU-4 is harsh on the shortest
# phrases, whose translations have few or no four-word runs to match:
lengths = np.array([len(pairs[i][0].split()) for i in test_index])
bins = [n for n in range(1, hp.max_length) if (lengths == n).sum() >= 20]
SHORT, LONG = (1, 7), (13, hp.max_length)  # French words, [low, high)


def bleu_where(hypotheses, keep):
    return corpus_bleu([h for h, k in zip(hypotheses, keep) if k], [r for r, k in zip(references["test"], keep) if k])


fig, ax = plt.subplots(figsize=(7, 4))
for name, variants in results.items():
    for colour, variant in zip(("C0", "C1", "C2"), DECODERS):
        hypotheses = variants[variant]["test"]["hypotheses"]
        variants[variant]["by_length"] = [bleu_where(hypotheses, lengths == b) for b in bins]
        variants[variant]["short"], variants[variant]["long"] = (
            bleu_where(hypotheses, (lengths >= low) & (lengths < high)) for low, high in (SHORT, LONG))
        ax.plot(bins, variants[variant]["by_length"], colour, marker="o", linestyle="-" if name == "torch" else "--",
                label=f"{torchflow.frameworks.label(name)}, {variant}")
ax.set(xlabel="French sentence length (words)", ylabel="test BLEU", ylim=(0, 102))
ax.legend(fontsize=7)
fig.tight_layout()
for name, variants in results.items():
    print(f"{torchflow.frameworks.label(name)}: " + "; ".join(
        f"{variant}: " + ", ".join(f"{b}w {s:.0f}" for b, s in zip(bins, variants[variant]["by_length"]))
        for variant in DECODERS))
    plain, better = variants["plain"], variants[variants["better"]]
    print(f"  on the short phrases ({SHORT[0]}-{SHORT[1] - 1} words, {((lengths >= SHORT[0]) & (lengths < SHORT[1])).sum()}"
          f" test pairs) the plain decoder scores {plain['short']:.1f} BLEU and the {variants['better']} "
          f"{better['short']:.1f} ({better['short'] - plain['short']:+.1f}); on the long ones ({LONG[0]}-{LONG[1] - 1}"
          f" words, {((lengths >= LONG[0]) & (lengths < LONG[1])).sum()} pairs) {plain['long']:.1f} against "
          f"{better['long']:.1f} ({better['long'] - plain['long']:+.1f}): from short to long the plain decoder's "
          f"BLEU changes by {plain['long'] - plain['short']:+.1f} points, the {variants['better']}'s by "
          f"{better['long'] - better['short']:+.1f}")

# %%
# Comparison
# ----------
# Time per training step of each decoder, and the gain of the better attention
# (chosen on validation) over the plain decoder on the whole test split.
for name, variants in results.items():
    print(f"{torchflow.frameworks.label(name)}: " + ", ".join(
        f"{variant} {1000 * variants[variant]['clock'].seconds_per_step:.1f} ms/step" for variant in DECODERS)
        + f"; {variants['better']} gains {variants['gain']:+.1f} BLEU points over the plain decoder "
        f"({variants[variants['better']]['test']['exact']:.1%} of the test numbers exactly right, against "
        f"{variants['plain']['test']['exact']:.1%})")
record = run.finish()
