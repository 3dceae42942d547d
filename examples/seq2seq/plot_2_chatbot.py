"""
A chatbot: bidirectional encoder, Luong attention, checkpoint and resume
========================================================================

The translation page's encoder-decoder turned to dialogue, after the PyTorch
chatbot tutorial: the source is what a person says, the target the reply. New
here: the encoder reads each sentence in **both directions**; the decoder uses
**Luong attention**; training is **checkpointed** in each framework's own format
and resumed in fresh objects; and the replies to prompts the model never saw are
scored against the simplest chatbot there is, one that retrieves the reply of
the most similar training prompt.
"""

# %%
# The model and the loss
# ----------------------
# The encoder adds a forward and a backward GRU,
# :math:`\bar h_s = \overrightarrow{h}_s + \overleftarrow{h}_s` (the backward one
# starts at each sentence's own last token). At each step the decoder's GRU cell
# gives :math:`h_t`, the weights are
# :math:`a_{t,s} = \operatorname{softmax}_s(h_t^\top \bar h_s)` (Luong's ``dot``
# score, as in the tutorial: no weights of its own), the context is
# :math:`c_t = \sum_s a_{t,s} \bar h_s` and the next word comes from
# :math:`\operatorname{softmax}(W_o \tanh(W_c [h_t; c_t]))`. The loss is the
# negative log-likelihood averaged over the real tokens of the padded replies,
# and the gradients' global norm is clipped to ``clip_norm``.
#
# **Departures from the reference** (the PyTorch chatbot tutorial):
#
# * one Adam, one learning rate for both networks (the tutorial: the decoder's 5x);
# * a one-layer GRU on each side, no dropout; separate query and reply vocabularies;
# * teacher forcing 0.9, drawn per decoder step for the whole batch (the tutorial:
#   1.0, per batch), so that the generator whose state the checkpoint keeps matters;
# * the checkpoint holds the optimiser and the random generators too, and is checked
#   before it is loaded;
# * offline, the data are ChatterBot's short conversations, not Cornell's films.
from textwrap import fill

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.baselines.lookup import NearestReply
from torchflow.checkpoint import CheckpointError, check_checkpoint, checkpoint_vocabularies
from torchflow.data.dialogue import load_dialogue
from torchflow.metrics import mean_standard_error, token_f1
from torchflow.prep.sentences import draw_teacher_forcing, encode_batch, prepare_pairs
from torchflow.training import StepClock, batch_indices

run = torchflow.Run()
hp = torchflow.Settings(
    max_length=10,
    hidden_size=torchflow.scaled(smoke=32, cpu=128, full=512),
    batch_size=32,
    learning_rate=3e-3,
    adam_epsilon=1e-8,
    clip_norm=1.0,
    teacher_forcing_ratio=0.9,
    steps=torchflow.scaled(smoke=16, cpu=600, full=8_000),
    after_resume=torchflow.scaled(smoke=4, cpu=20, full=20),  # steps compared with the run that never stopped
    test_prompts=torchflow.scaled(smoke=40, cpu=120, full=2_000),
    seed=0,
)
hp.checkpoint_at = hp.steps // 2
RESUME = "largest weight difference, resumed run vs the run that never stopped"
F1 = "token F1 of the replies to held-out prompts"
run.expect(RESUME, at_most=0.0)  # exactly the same run, in every budget
run.expect(F1, above_baseline_by=torchflow.scaled(smoke=None, cpu=0.0, full=0.0))
LOSS_FALL = "training loss, mean of the last quarter of the steps / of the first quarter"
run.expect(LOSS_FALL, at_most=torchflow.scaled(smoke=0.95, cpu=None, full=None))  # smoke: it learns at all
hp

# %%
# Data: training pairs and held-out prompts
# -----------------------------------------
# The canonical data are the Cornell Movie-Dialogs' adjacent lines; offline, the
# English ChatterBot corpus, each adjacent pair of turns a (query, reply) pair.
# Sentences are normalised as on the translation page and kept under
# ``max_length`` words. The tutorial drops pairs holding a word seen fewer than
# 3 times, which on a corpus of two thousand turns would leave little, so there
# the limit is 1. The test split holds out whole *prompts*: every pair that
# starts with a held-out prompt (in any conversation) leaves training, so no test
# prompt was ever seen, and words it alone holds are unknown to the model.
data = load_dialogue()
run.use_data(data)
all_pairs, _, _ = prepare_pairs(data.pairs, max_words=hp.max_length, min_count=3 if len(data) > 100_000 else 1)
prompts = sorted({q for q, _ in all_pairs})
held_out = set(np.random.default_rng(hp.seed).choice(prompts, hp.test_prompts, replace=False).tolist())
pairs = [p for p in all_pairs if p[0] not in held_out]
test_pairs = [p for p in all_pairs if p[0] in held_out]
_, queries, replies = prepare_pairs(pairs, max_words=hp.max_length, min_count=1)  # the training words only
source, source_lengths = encode_batch([q for q, _ in pairs], queries, hp.max_length)
target, _ = encode_batch([r for _, r in pairs], replies, hp.max_length)
print(fill(f"{len(all_pairs):,} pairs kept of {len(data):,}; {len(pairs):,} for training, "
           f"{len(test_pairs):,} held out ({len(held_out)} prompts never seen); {len(queries)} query and "
           f"{len(replies)} reply tokens", 88))

# %%
# The baseline: retrieval
# -----------------------
# :class:`torchflow.baselines.lookup.NearestReply` answers with the reply of the
# training prompt whose TF-IDF vector is nearest (cosine). Both it and the
# networks are scored by token F1 against the held-out reply
# (:func:`torchflow.metrics.token_f1`: the harmonic mean of the shares of shared
# words), averaged over the held-out pairs.
retrieval = NearestReply([q for q, _ in pairs], [r for _, r in pairs])
retrieved = retrieval([q for q, _ in test_pairs])
scores = token_f1(retrieved, [r for _, r in test_pairs])
run.baseline(F1, scores.mean(), "nearest training prompt's reply (TF-IDF cosine)", noise=mean_standard_error(scores))
print(f"retrieval: token F1 {scores.mean():.3f} ± {mean_standard_error(scores):.3f}")

# %%
# Checkpoints in each framework's format
# --------------------------------------
# PyTorch saves *state dicts* (named tensors) with ``torch.save`` and reads them
# back with ``torch.load(path, weights_only=True)``, which rebuilds tensors and
# plain containers only and never runs code from the file. TensorFlow tracks the
# models and the optimiser in a ``tf.train.Checkpoint`` and writes numbered
# checkpoints with a ``tf.train.CheckpointManager``. A plain ``.npz`` of the
# arrays would work too, but every reader would need its own code to put each
# tensor and optimiser slot back by position, and no other tool would read it.
# Beside either format, :mod:`torchflow.checkpoint` writes a small manifest (the
# iteration, the vocabularies, the NumPy generator's state, each file's SHA-256)
# and checks it before anything is loaded.
#
# .. literalinclude:: /../torchflow/checkpoint.py
#    :language: python
#    :pyobject: save_torch
#
# .. literalinclude:: /../torchflow/checkpoint.py
#    :language: python
#    :pyobject: load_keras
#
# The check that a resume continues the *same* run: half-way, the checkpoint is
# written; the original objects go on for ``after_resume`` steps (the run that
# never stopped); then *fresh* objects, built with other random weights, are
# restored from the file and take the same steps; their weights must be equal,
# to the last bit. Restoring the weights without the optimiser's state is shown
# beside it: Adam restarts its step count and moments, and the runs part.
import shutil
import tempfile
from pathlib import Path

batches = list(batch_indices(len(pairs), hp.batch_size, hp.steps, seed=hp.seed))
vocabularies = {"queries": queries.words, "replies": replies.words}
folder = Path(tempfile.mkdtemp(prefix="torchflow-chatbot-"))
results = {}


def resume_check(twin):
    """Train, checkpoint, compare the resumed run with the one that never stopped; train on to the end."""
    losses, clock, stop = [], StepClock(), hp.checkpoint_at + hp.after_resume
    models, optimizer = twin.build(hp.seed)
    rng = np.random.default_rng(hp.seed)
    twin.train(models, optimizer, rng, 0, hp.checkpoint_at, losses, clock)
    path = twin.save(models, optimizer, rng)
    twin.train(models, optimizer, rng, hp.checkpoint_at, stop, [], StepClock())
    never_stopped = twin.weights(models)
    del models, optimizer, rng  # nothing survives but the files

    models, optimizer = twin.build(hp.seed + 2)  # the weights alone, a fresh Adam
    twin.load_weights_only(path, models)
    rng = np.random.default_rng()
    rng.bit_generator.state = check_checkpoint(path, framework=twin.name)["rng"]
    twin.train(models, optimizer, rng, hp.checkpoint_at, stop, [], StepClock())
    forgot = twin.weights(models)

    models, optimizer = twin.build(hp.seed + 1)  # other random weights: the checkpoint must replace them all
    meta = twin.load(path, models, optimizer)
    rng = np.random.default_rng()
    rng.bit_generator.state = meta["rng"]
    twin.train(models, optimizer, rng, meta["iteration"], stop, losses, clock)
    resumed = twin.weights(models)
    twin.train(models, optimizer, rng, stop, hp.steps, losses, clock)
    gaps = [max(float(np.abs(w[k] - never_stopped[k]).max()) for k in never_stopped) for w in (resumed, forgot)]
    return dict(losses=losses, clock=clock, path=path, models=models, gap=gaps[0], forgot_gap=gaps[1])


if run.trains("torch"):
    import torch

    from torchflow.checkpoint import load_torch, save_torch
    from torchflow.pt import seq2seq as pt_s2s  # a module name: the TensorFlow twin's classes share the names

    class TorchTwin:
        name = "torch"

        def build(self, seed):
            torch.manual_seed(seed)
            models = {"encoder": pt_s2s.EncoderRNN(len(queries), hp.hidden_size, bidirectional=True),
                      "decoder": pt_s2s.LuongAttnDecoderRNN(len(replies), hp.hidden_size, method="dot")}
            return models, torch.optim.Adam([p for m in models.values() for p in m.parameters()],
                                            lr=hp.learning_rate, eps=hp.adam_epsilon)

        def train(self, models, optimizer, rng, start, stop, losses, clock):
            weights = [p for m in models.values() for p in m.parameters()]
            for step in range(start, stop):
                teacher = torch.as_tensor(draw_teacher_forcing(rng, hp.teacher_forcing_ratio, hp.max_length))
                with clock:
                    batch = [torch.as_tensor(a[batches[step]]) for a in (source, source_lengths, target)]
                    loss = pt_s2s.decode_loss(models["encoder"], models["decoder"], *batch, teacher)
                    optimizer.zero_grad()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(weights, hp.clip_norm)
                    optimizer.step()
                losses.append(loss.item())

        def weights(self, models):
            return {f"{k}.{n}": v.detach().numpy().copy() for k, m in models.items() for n, v in m.state_dict().items()}

        def save(self, models, optimizer, rng):
            return save_torch(folder / "chatbot.pt", models, optimizer, iteration=hp.checkpoint_at,
                              vocabularies=vocabularies, rng=rng.bit_generator.state)

        def load(self, path, models, optimizer):
            return load_torch(path, models, optimizer, vocabularies=vocabularies)

        def load_weights_only(self, path, models):
            state = torch.load(path, weights_only=True)
            for name, model in models.items():
                model.load_state_dict(state["models"][name])

        def reply(self, models, tokens, lengths):
            out, _ = pt_s2s.greedy_decode(models["encoder"], models["decoder"], torch.as_tensor(tokens),
                                   torch.as_tensor(lengths), max_length=hp.max_length)
            return out.numpy()

    results["torch"] = dict(resume_check(TorchTwin()), device="cpu", twin=TorchTwin())

if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.checkpoint import keras_checkpoint, load_keras, save_keras
    from torchflow.device import tf_device
    from torchflow.tf import seq2seq as tf_s2s

    tensors = [tf.constant(a, tf.int32) for a in (source, source_lengths, target)]

    class KerasTwin:
        name, steps = "tensorflow", {}

        def build(self, seed):
            keras.utils.set_random_seed(seed)
            models = {"encoder": tf_s2s.EncoderRNN(len(queries), hp.hidden_size, bidirectional=True),
                      "decoder": tf_s2s.LuongAttnDecoderRNN(len(replies), hp.hidden_size, method="dot")}
            return models, keras.optimizers.Adam(learning_rate=hp.learning_rate, epsilon=hp.adam_epsilon)

        def step(self, models, optimizer):  # one traced step per set of objects
            if id(optimizer) not in self.steps:
                variables = models["encoder"].trainable_variables + models["decoder"].trainable_variables
                optimizer.build(variables)

                @tf.function
                def traced(index, teacher):
                    with tf.GradientTape() as tape:
                        loss = tf_s2s.decode_loss(models["encoder"], models["decoder"],
                                           *(tf.gather(a, index) for a in tensors), teacher)
                    gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
                    gradients, _ = tf.clip_by_global_norm(gradients, hp.clip_norm)
                    optimizer.apply_gradients(zip(gradients, variables))
                    return loss
                self.steps[id(optimizer)] = traced
            return self.steps[id(optimizer)]

        def train(self, models, optimizer, rng, start, stop, losses, clock):
            traced = self.step(models, optimizer)
            for step in range(start, stop):
                teacher = tf.constant(draw_teacher_forcing(rng, hp.teacher_forcing_ratio, hp.max_length))
                with clock:
                    losses.append(float(traced(tf.constant(batches[step]), teacher)))

        def weights(self, models):
            return {f"{k}.{i}": np.array(w) for k, m in models.items() for i, w in enumerate(m.get_weights())}

        def save(self, models, optimizer, rng):
            manager = tf.train.CheckpointManager(keras_checkpoint(models, optimizer), folder / "tf", max_to_keep=2)
            return save_keras(manager, iteration=hp.checkpoint_at, vocabularies=vocabularies,
                              rng=rng.bit_generator.state)

        def load(self, path, models, optimizer):
            return load_keras(path, models, optimizer, vocabularies=vocabularies)

        def load_weights_only(self, path, models):
            tf.train.Checkpoint(**models).restore(str(path)).expect_partial()

        def reply(self, models, tokens, lengths):
            out, _ = tf_s2s.greedy_decode(models["encoder"], models["decoder"], tf.constant(tokens, tf.int32),
                                   tf.constant(lengths, tf.int32), max_length=hp.max_length)
            return out.numpy()

    results["tensorflow"] = dict(resume_check(KerasTwin()), device=tf_device(), twin=KerasTwin())

# %%
# Results
# -------
# The resumed run's weights against the never-stopped run's after
# ``after_resume`` further steps (the target: no difference at all), and the
# replies to the held-out prompts against the retrieval baseline.
test_prompts = sorted(held_out)
test_references = [r for _, r in test_pairs]


def known(prompt):
    return " ".join(w for w in prompt.split() if w in queries.index)


tokens, lengths = encode_batch([known(p) for p in test_prompts], queries, hp.max_length)
for r in results.values():
    answers = dict(zip(test_prompts, (replies.decode(row) for row in r["twin"].reply(r["models"], tokens, lengths))))
    r["answers"] = answers
    r["f1"] = token_f1([answers[q] for q, _ in test_pairs], test_references)
    quarter = max(1, len(r["losses"]) // 4)
    r["loss_fall"] = float(np.mean(r["losses"][-quarter:]) / np.mean(r["losses"][:quarter]))
    run.record(r["twin"].name, {RESUME: r["gap"], F1: r["f1"].mean(), LOSS_FALL: r["loss_fall"]},
               noise={F1: mean_standard_error(r["f1"])}, device=r["device"], clock=r["clock"])
run.verdict()

# %%
for name, r in results.items():
    print(fill(f"{torchflow.frameworks.label(name)}: after {hp.after_resume} steps past the checkpoint the resumed run "
          f"differs from the never-stopped one by {r['gap']:.1e}; restored without Adam's state, by "
          f"{r['forgot_gap']:.1e}. Token F1 on held-out prompts {r['f1'].mean():.3f} ± "
          f"{mean_standard_error(r['f1']):.3f}, retrieval {scores.mean():.3f}", 88, subsequent_indent="  "))

# %%
# What the replies to unseen prompts say about the network against retrieval:
for name, r in results.items():
    margin = r["f1"].mean() - scores.mean()
    noise = np.hypot(mean_standard_error(r["f1"]), mean_standard_error(scores))
    verdict = ("within noise of" if abs(margin) < 2 * noise else "above" if margin > 0 else "below")
    print(f"{torchflow.frameworks.label(name)}: token F1 {margin:+.3f} (± {noise:.3f}), {verdict} retrieval")
# %%
# Where the network is below retrieval, it has learnt the corpus's commonest
# answers more than what a new prompt asks, from a few hundred pairs, while
# retrieval copies a whole, fluent reply; what would close the gap (Cornell's
# two hundred thousand pairs, a longer budget) is not measured here.
#
# The loss across the resume
# --------------------------
# The training loss of each twin (a running mean over 10 steps), the checkpoint
# marked, and :math:`\log V`, the loss of a uniform guess, dotted.
fig, ax = plt.subplots(figsize=(7, 4))
for name, r in results.items():
    curve = np.convolve(r["losses"], np.ones(10) / 10, mode="valid")
    ax.plot(np.arange(10, len(r["losses"]) + 1), curve, label=torchflow.frameworks.label(name))
ax.axvline(hp.checkpoint_at, color="grey", linestyle="--", label="checkpoint: saved, deleted, restored")
ax.axhline(np.log(len(replies)), color="grey", linestyle=":", label="log V (uniform guess)")
ax.set(title="Training loss across the resume", xlabel="optimiser step", ylabel="masked NLL per token",
       yscale="log")
ax.legend()
fig.tight_layout()

# %%
# Wrong checkpoints are refused
# -----------------------------
# The manifest is read before anything is loaded, and the error says which file
# is wrong and what to do: a truncated copy, the other framework's checkpoint,
# and one saved with other vocabularies.
name, r = next(iter(results.items()))
other = {"torch": "tensorflow", "tensorflow": "torch"}[name]
other_words = {"queries": queries.words, "replies": replies.words[:-1] + ["<new word>"]}
data_files = [f for f in r["path"].parent.iterdir() if f.name.startswith(r["path"].name) and f.suffix != ".json"]
for attempt in ("other framework", "other vocabularies", "truncated"):
    if attempt == "truncated":  # cut the largest file of the checkpoint to 100 bytes
        damaged = max(data_files, key=lambda f: f.stat().st_size)
        damaged.write_bytes(damaged.read_bytes()[:100])
    try:
        check_checkpoint(r["path"], framework=other if attempt == "other framework" else name,
                         vocabularies=other_words if attempt == "other vocabularies" else vocabularies)
    except CheckpointError as error:
        print(fill(f"{attempt}: CheckpointError: {error}", 88, subsequent_indent="    ") + "\n")
print("vocabularies in the manifest:", {k: len(v) for k, v in checkpoint_vocabularies(r["path"]).items()})

# %%
# Replies to prompts never seen
# -----------------------------
# Greedy decoding, next to the retrieval baseline and the held-out reply, for
# six held-out prompts (words the model never saw are dropped from the prompt).
for prompt in sorted(np.random.default_rng(hp.seed).choice(test_prompts, 6, replace=False)):
    reference = next(b for a, b in test_pairs if a == prompt)
    print(fill(f"> {prompt}", 88))
    for label, answer in [("held-out reply", reference), ("retrieval", retrieval.reply(prompt)),
                          *((torchflow.frameworks.label(n), r["answers"][prompt]) for n, r in results.items())]:
        print(fill(f"    {label:14s} {answer}", 88, subsequent_indent=" " * 19))
shutil.rmtree(folder)  # the checkpoints were for this page only
record = run.finish()
