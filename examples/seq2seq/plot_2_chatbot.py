"""
A chatbot: bidirectional encoder, Luong attention, checkpoint and resume
========================================================================

The same encoder-decoder as the translation page, turned to dialogue: the
source is what a person says, the target is the reply. Three things are new:

* the encoder reads each sentence in **both directions** and sums them;
* the decoder uses **Luong global attention** (the GRU step first, then scores
  between its state and every encoder output);
* training is **saved mid-way to a checkpoint** and resumed in *fresh* model
  objects, as one does when a run is interrupted or continued on another day.
"""

# sphinx_gallery_thumbnail_number = 1

# %%
# The model and the loss
# ----------------------
# The encoder runs one GRU forwards and one backwards over each sentence (the
# backward one starts at the sentence's own last token, not at its padding) and
# adds their outputs, :math:`\bar h_s = \overrightarrow{h}_s + \overleftarrow{h}_s`.
# At each step the decoder's GRU cell gives :math:`h_t`, attention weights over
# the source are :math:`a_{t,s} = \operatorname{softmax}_s \operatorname{score}(h_t, \bar h_s)`,
# the context is :math:`c_t = \sum_s a_{t,s} \bar h_s`, and the next word is drawn from
# :math:`\operatorname{softmax}(W_o \tanh(W_c [h_t; c_t]))`. Luong et al. (2015) give three scores,
# all implemented in :class:`~torchflow.pt.seq2seq.LuongAttnDecoderRNN`:
#
# .. math::
#
#    \operatorname{score}(h_t, \bar h_s) = h_t^\top \bar h_s \ (\text{dot}),\qquad
#    h_t^\top W_a \bar h_s \ (\text{general}),\qquad
#    v_a^\top \tanh\big(W_a [h_t; \bar h_s]\big) \ (\text{concat}).
#
# This page trains ``dot``, as the PyTorch chatbot tutorial does: it adds no
# weights, and the encoder and decoder are trained together, so their states
# can learn to live in one space; on a corpus of a few hundred pairs fewer
# weights also mean less to memorise. (The translation page trains ``general``;
# the parity tests cover all three.)
#
# Replies in a batch have different lengths, so the batch is padded and the
# loss is the **masked** negative log-likelihood: the mean over the real tokens
# only, :math:`-\frac{1}{\sum m_{b,t}}\sum_{b,t} m_{b,t} \log p(y_{b,t})`, with
# :math:`m_{b,t} = 0` on padding (``tests/test_parity_seq2seq.py`` checks that
# padding a batch further does not change it). Recurrent networks' gradients can
# explode, so their global norm is **clipped** to ``clip_norm`` before each step
# (``torch.nn.utils.clip_grad_norm_`` and ``tf.clip_by_global_norm`` compute the
# same thing). With **teacher forcing** the decoder is fed the reference word.
#
# **Departures from the notes.** One Adam for both networks with one learning
# rate (the tutorial gives the decoder five times the encoder's; the rate here
# was not tuned, since this page's measure is the resume, not held-out
# replies), no dropout, a
# one-layer GRU on each side, separate word lists and embeddings for queries and
# replies (the tutorial shares one), and a teacher-forcing ratio of 0.9 (the
# tutorial's 1.0 never draws, so the random state a checkpoint must keep would
# not matter). The checkpoint holds the optimiser's state and the random
# generators' states too (NumPy's, which draws the teacher forcing, and
# PyTorch's global one), which the notes' checkpoint leaves out, so that
# resuming continues the *same* run.
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.checkpoint import CheckpointError, checkpoint_vocabularies, load_checkpoint, save_checkpoint
from torchflow.data.dialogue import load_dialogue
from torchflow.data.sentences import encode_batch, normalize, prepare_pairs
from torchflow.training import StepClock, batch_indices

run = torchflow.Run()
hp = SimpleNamespace(
    max_length=10,
    min_count=None,  # set with the data below: the notes' 10 for Cornell, 1 for the small stand-in
    hidden_size=torchflow.scaled(smoke=32, cpu=128, full=512),
    attention="dot",
    batch_size=32,
    learning_rate=3e-3,
    adam_epsilon=1e-8,
    clip_norm=1.0,
    teacher_forcing_ratio=0.9,
    steps=torchflow.scaled(smoke=16, cpu=600, full=8_000),
    seed=0,
)
hp.checkpoint_at = hp.steps // 2
GAP = "loss gap across the resume, fixed batch (relative)"
run.expect(GAP, at_most=torchflow.scaled(smoke=0.05, cpu=0.05, full=0.05))
# smoke: the training loss fell (a step that does not learn: about 1; the GAP target alone would not see that)
LOSS_FALL = "training loss, mean of the last quarter of the steps / of the first quarter"
run.expect(LOSS_FALL, at_most=torchflow.scaled(smoke=0.95, cpu=None, full=None))
hp

# %%
# Data
# ----
# The canonical data are the Cornell Movie-Dialogs' adjacent lines (checksummed
# download). Offline the book uses the English ChatterBot corpus: short
# conversations, each adjacent pair of turns a (query, reply) pair. Sentences are
# normalised as on the translation page and kept under ``max_length`` words. The
# notes drop the pairs holding a word seen fewer than 10 times, which keeps
# Cornell's vocabulary (and the output layer) small; on the stand-in, a corpus of a
# couple of thousand turns, that leaves few pairs (printed below), so there
# ``min_count`` is 1.
data = load_dialogue()
run.use_data(data)
hp.min_count = 10 if len(data) > 100_000 else 1
pairs, queries, replies = prepare_pairs(data.pairs, max_words=hp.max_length, min_count=hp.min_count)
source, source_lengths = encode_batch([q for q, _ in pairs], queries, hp.max_length)
target, _ = encode_batch([r for _, r in pairs], replies, hp.max_length)
print(f"{len(pairs):,} pairs kept of {len(data):,} ({len(set(pairs)):,} distinct); {len(queries)} query words, "
      f"{len(replies)} reply words; with the notes' min_count of 10, "
      f"{len(prepare_pairs(data.pairs, max_words=hp.max_length, min_count=10)[0])} pairs would be left")
for query, reply in pairs[:4]:
    print(f"  {query!r} -> {reply!r}")

# %%
# Both twins train on the same batches; the teacher-forcing draws come from one
# NumPy generator per twin, seeded alike, whose state goes into the checkpoint.
# A checkpoint is written with :func:`torchflow.checkpoint.save_checkpoint`:
# named arrays and a JSON header in one ``.npz`` file, written to a temporary
# file and renamed over the target (:func:`os.replace`), so that a crash
# mid-write never leaves half a checkpoint under the name.
import shutil
import tempfile
from pathlib import Path

batches = list(batch_indices(len(pairs), hp.batch_size, hp.steps, seed=hp.seed))
vocabularies = {"queries": queries.words, "replies": replies.words}
folder = Path(tempfile.mkdtemp(prefix="torchflow-chatbot-"))
probe = np.arange(min(64, len(pairs)))  # a fixed batch: the saved and the restored model must agree on it
results = {}


def continuity(losses, window=10):
    """Mean training loss of the ``window`` steps before the checkpoint and of those after the resume."""
    window = min(window, hp.checkpoint_at, hp.steps - hp.checkpoint_at)
    before = np.mean(losses[hp.checkpoint_at - window : hp.checkpoint_at])
    after = np.mean(losses[hp.checkpoint_at : hp.checkpoint_at + window])
    return before, after, abs(after - before) / before


# %%
# The PyTorch twin
# ----------------
# ``train`` runs steps ``start`` to ``stop``: the batch, ``decode_loss`` (encoder,
# decoder unrolled with teacher forcing, masked NLL), ``backward``, clipping,
# ``step``. Half-way the models, the optimiser, the vocabularies, the iteration
# and the generator's state are saved; then everything is deleted, and *new*
# objects, built with other random weights, are restored from the file.
if run.trains("torch"):
    import torch

    from torchflow.checkpoint import restore_torch, torch_training_state
    from torchflow.pt.seq2seq import EncoderRNN, LuongAttnDecoderRNN, decode_loss

    def build_torch(seed):
        torch.manual_seed(seed)
        encoder = EncoderRNN(len(queries), hp.hidden_size, bidirectional=True)
        decoder = LuongAttnDecoderRNN(len(replies), hp.hidden_size, method=hp.attention)
        optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=hp.learning_rate,
                                     eps=hp.adam_epsilon)
        return {"encoder": encoder, "decoder": decoder}, optimizer

    def torch_batch(index):
        return [torch.as_tensor(a[index]) for a in (source, source_lengths, target)]

    def train_torch(models, optimizer, rng, start, stop, losses, clock):
        encoder, decoder = models["encoder"], models["decoder"]
        weights = [*encoder.parameters(), *decoder.parameters()]
        for step in range(start, stop):
            teacher = torch.as_tensor(rng.random(hp.max_length) < hp.teacher_forcing_ratio)
            with clock:
                loss = decode_loss(encoder, decoder, *torch_batch(batches[step]), teacher)
                optimizer.zero_grad()
                loss.backward()
                norm = torch.nn.utils.clip_grad_norm_(weights, hp.clip_norm)  # the norm before clipping
                optimizer.step()
            losses.append(loss.item())
            clipped.append(float(norm) > hp.clip_norm)

    def probe_loss_torch(models):
        with torch.no_grad():
            return decode_loss(models["encoder"], models["decoder"], *torch_batch(probe),
                               torch.ones(hp.max_length, dtype=torch.bool)).item()

    losses, clipped, clock = [], [], StepClock()
    models, optimizer = build_torch(hp.seed)
    rng = np.random.default_rng(hp.seed)
    train_torch(models, optimizer, rng, 0, hp.checkpoint_at, losses, clock)
    path = save_checkpoint(folder / "torch.ckpt", torch_training_state(models, optimizer), framework="torch",
                           iteration=hp.checkpoint_at, vocabularies=vocabularies, rng=rng.bit_generator.state)
    saved_probe = probe_loss_torch(models)
    del models, optimizer, rng  # nothing survives but the file

    models, optimizer = build_torch(hp.seed + 1)
    fresh_probe = probe_loss_torch(models)
    arrays, meta = load_checkpoint(path, framework="torch", vocabularies=vocabularies)
    restore_torch(arrays, models, optimizer)
    rng = np.random.default_rng()
    rng.bit_generator.state = meta["rng"]
    restored_probe = probe_loss_torch(models)
    train_torch(models, optimizer, rng, meta["iteration"], hp.steps, losses, clock)
    results["torch"] = dict(losses=losses, clipped=np.mean(clipped), clock=clock, path=path, device="cpu",
                            probe=(saved_probe, fresh_probe, restored_probe), models=models)

# %%
# The TensorFlow twin
# -------------------
# The same, with the step traced by ``tf.function``. The gradients are made
# dense before clipping and Adam (see the translation page), and Keras' Adam is
# built for the restored models' variables before its saved state is assigned.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.checkpoint import keras_training_state, restore_keras
    from torchflow.device import tf_device
    from torchflow.tf.seq2seq import EncoderRNN, LuongAttnDecoderRNN, decode_loss

    all_source, all_lengths, all_target = (tf.constant(a, tf.int32) for a in (source, source_lengths, target))

    def build_keras(seed):
        keras.utils.set_random_seed(seed)
        models = {"encoder": EncoderRNN(len(queries), hp.hidden_size, bidirectional=True),
                  "decoder": LuongAttnDecoderRNN(len(replies), hp.hidden_size, method=hp.attention)}
        return models, keras.optimizers.Adam(learning_rate=hp.learning_rate, epsilon=hp.adam_epsilon)

    def keras_batch(index):
        return [tf.gather(a, index) for a in (all_source, all_lengths, all_target)]

    def make_train_step(models, optimizer):
        encoder, decoder = models["encoder"], models["decoder"]
        variables = encoder.trainable_variables + decoder.trainable_variables
        optimizer.build(variables)  # its state exists before tracing: one trace, not two

        @tf.function
        def train_step(index, teacher):
            with tf.GradientTape() as tape:
                loss = decode_loss(encoder, decoder, *keras_batch(index), teacher)
            gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
            gradients, norm = tf.clip_by_global_norm(gradients, hp.clip_norm)  # the norm before clipping
            optimizer.apply_gradients(zip(gradients, variables))
            return loss, norm
        return train_step

    def train_keras(models, optimizer, rng, start, stop, losses, clock):
        train_step = make_train_step(models, optimizer)
        for step in range(start, stop):
            teacher = tf.constant(rng.random(hp.max_length) < hp.teacher_forcing_ratio)
            with clock:
                loss, norm = train_step(tf.constant(batches[step]), teacher)
            losses.append(float(loss))
            clipped.append(float(norm) > hp.clip_norm)

    def probe_loss_keras(models):
        return float(decode_loss(models["encoder"], models["decoder"], *keras_batch(probe),
                                 tf.ones(hp.max_length, bool)))

    losses, clipped, clock = [], [], StepClock()
    models, optimizer = build_keras(hp.seed)
    rng = np.random.default_rng(hp.seed)
    train_keras(models, optimizer, rng, 0, hp.checkpoint_at, losses, clock)
    path = save_checkpoint(folder / "tensorflow.ckpt", keras_training_state(models, optimizer),
                           framework="tensorflow", iteration=hp.checkpoint_at, vocabularies=vocabularies,
                           rng=rng.bit_generator.state)
    saved_probe = probe_loss_keras(models)
    del models, optimizer, rng

    models, optimizer = build_keras(hp.seed + 1)
    fresh_probe = probe_loss_keras(models)
    arrays, meta = load_checkpoint(path, framework="tensorflow", vocabularies=vocabularies)
    restore_keras(arrays, models, optimizer)
    rng = np.random.default_rng()
    rng.bit_generator.state = meta["rng"]
    restored_probe = probe_loss_keras(models)
    train_keras(models, optimizer, rng, meta["iteration"], hp.steps, losses, clock)
    results["tensorflow"] = dict(losses=losses, clipped=np.mean(clipped), clock=clock, path=path,
                                 device=tf_device(),  # where TensorFlow places its ops by default
                                 probe=(saved_probe, fresh_probe, restored_probe), models=models)

# %%
# Results
# -------
# The target: training continues from the checkpoint, the resumed model's loss
# within 5 % of the saved model's. It is measured on one fixed batch of pairs,
# scored by the model when it was saved and by the fresh objects once restored,
# before any further step: consecutive training batches differ too much for a
# 5 % comparison (the 10 training steps on either side of the checkpoint are
# printed below too, with whether the loss was still falling there). That a
# resumed run ends with exactly the weights of a run that never stopped is
# checked by ``tests/test_checkpoint.py``, not on this page.
for r in results.values():
    saved, _, restored = r["probe"]
    r["gap"] = abs(restored - saved) / saved
    r["before"], r["after"], r["window_gap"] = continuity(r["losses"])
    quarter = max(1, len(r["losses"]) // 4)
    r["loss_fall"] = float(np.mean(r["losses"][-quarter:]) / np.mean(r["losses"][:quarter]))
run.record_all(results, lambda r: {GAP: r["gap"], "loss gap across the resume, 10 training steps (relative)":
                                   r["window_gap"], "final training loss (last 25 steps)": np.mean(r["losses"][-25:]),
                                   "fraction of steps clipped": r["clipped"], LOSS_FALL: r["loss_fall"]})
run.verdict()

# %%
for name, r in results.items():
    saved, fresh, restored = r["probe"]
    print(f"{torchflow.frameworks.label(name)}: loss on a fixed batch {saved:.4f} when saved, {fresh:.4f} in the "
          f"fresh objects, {restored:.4f} once restored; training loss {r['before']:.3f} before the checkpoint, "
          f"{r['after']:.3f} after the resume ({r['window_gap']:.1%}; "
          f"{'still falling' if r['after'] < r['before'] else 'not falling'}); final {np.mean(r['losses'][-25:]):.3f}; "
          f"gradients clipped in {r['clipped']:.0%} of the steps")
if len(results) == 2:
    a, b = (np.mean(results[n]["losses"][-25:]) for n in ("torch", "tensorflow"))
    print(f"twins' final training loss: {a:.3f} vs {b:.3f}, relative gap {abs(a - b) / max(a, b):.1%}")

# %%
# The loss across the resume
# --------------------------
# The training loss of each twin (a running mean over 10 steps), with the
# checkpoint marked. A model started from scratch at that point would begin
# again near :math:`\log V`, the loss of a uniform guess, drawn as a dotted line.
fig, ax = plt.subplots(figsize=(7, 4))
for name, r in results.items():
    curve = np.convolve(r["losses"], np.ones(10) / 10, mode="valid")
    ax.plot(np.arange(10, len(r["losses"]) + 1), curve, label=torchflow.frameworks.label(name))
ax.axvline(hp.checkpoint_at, color="grey", linestyle="--", label="checkpoint: saved, deleted, restored")
ax.axhline(np.log(len(replies)), color="grey", linestyle=":", label="log V (uniform guess)")
ax.set(xlabel="optimiser step", ylabel="masked NLL per token", yscale="log")
ax.legend()
fig.tight_layout()

# %%
# Wrong checkpoints are refused
# -----------------------------
# Loading checks the file before anything is restored, and says which file is
# wrong and what to do: a truncated copy, a checkpoint of the other framework,
# and one saved with other vocabularies.
some = next(iter(results.values()))["path"]
truncated = folder / "truncated.ckpt"
truncated.write_bytes(some.read_bytes()[: some.stat().st_size // 2])
other_framework = {"torch": "tensorflow", "tensorflow": "torch"}[next(iter(results))]
other_words = {"queries": queries.words, "replies": replies.words[:-1] + ["<new word>"]}
for attempt in (lambda: load_checkpoint(truncated, framework=next(iter(results))),
                lambda: load_checkpoint(some, framework=other_framework),
                lambda: load_checkpoint(some, framework=next(iter(results)), vocabularies=other_words)):
    try:
        attempt()
    except CheckpointError as error:
        print(f"CheckpointError: {error}\n")
print("vocabularies in the checkpoint:", {k: len(v) for k, v in checkpoint_vocabularies(some).items()})

# %%
# A conversation
# --------------
# Greedy decoding: the most likely word at each step, fed back, until the end
# token. Each prompt is answered by both twins; words the model never saw are
# dropped from the prompt (and said so).
PROMPTS = ["hello", "how are you doing ?", "what is your name ?", "are you a robot ?", "tell me a joke",
           "what is the stock market"]


def reply(name, models, text):
    words = [w for w in normalize(text).split() if w in queries.index]
    tokens, lengths = encode_batch([" ".join(words)], queries, hp.max_length)
    if name == "torch":
        from torchflow.pt.seq2seq import greedy_decode

        out, _ = greedy_decode(models["encoder"], models["decoder"], torch.as_tensor(tokens),
                               torch.as_tensor(lengths), max_length=hp.max_length)
    else:
        from torchflow.tf.seq2seq import greedy_decode

        out, _ = greedy_decode(models["encoder"], models["decoder"], tf.constant(tokens, tf.int32),
                               tf.constant(lengths, tf.int32), max_length=hp.max_length)
    return replies.decode(np.asarray(out)[0]), [w for w in normalize(text).split() if w not in queries.index]


for prompt in PROMPTS:
    print(f"> {prompt}")
    for name, r in results.items():
        answer, unknown = reply(name, r["models"], prompt)
        note = f"   (unknown words dropped: {', '.join(unknown)})" if unknown else ""
        print(f"  {torchflow.frameworks.label(name):10s} {answer}{note}")
shutil.rmtree(folder)  # the checkpoints were for this page only
record = run.finish()
