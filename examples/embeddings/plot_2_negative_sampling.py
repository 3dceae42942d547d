"""
Skip-gram with a sampled loss: NCE and negative sampling
========================================================

The previous page trained skip-gram with a full softmax: every step scores every
word of the vocabulary for every example and normalises over all of them. A
**sampled loss** scores only the true context word and a few *noise* words, and
asks a binary question: is this the real context word, or noise? This page
trains skip-gram both ways that matter, in PyTorch and TensorFlow:

* **noise-contrastive estimation** (NCE), built into TensorFlow as
  ``tf.nn.nce_loss`` and written out in the PyTorch twin, which estimates the
  softmax model;
* word2vec's **negative sampling** (SGNS, Mikolov et al., 2013), with its
  frequent-word subsampling, which learns good vectors but no probabilities.

Each is set against what counting gives: the context predicted from training
frequency alone, and the PPMI-SVD vectors of the previous page.

Departures from the reference (``tf.nn.nce_loss``'s defaults; Mikolov et al., 2013):

* NCE noise is drawn *with replacement* from the log-uniform (Zipfian) sampler;
  ``tf.nn.nce_loss`` by default draws 64 *distinct* ids (``unique=True``);
* as ``tf.nn.nce_loss``, one set of 64 noise words for the whole batch and
  accidental hits kept (``remove_accidental_hits=False``);
* SGNS: 5 noise words per pair from the unigram distribution to the power 3/4
  (the paper), a fixed window of 2 (word2vec samples it), Adam on batches of 128
  (word2vec: SGD, one pair at a time, a decaying learning rate);
* subsampling keeps a word with probability :math:`\\sqrt{t/f}` (the paper's
  formula; word2vec's code adds :math:`t/f`) with the code's default
  :math:`t = 10^{-3}`, drawn once before training (the page sees less than one
  pass of the text);
* Shakespeare, the 3,000 most frequent words, 64 dimensions.
"""

# %%
# Two sampled losses, written out
# -------------------------------
# For an input word with vector :math:`e` and a candidate context word
# :math:`w` with output vector :math:`u_w` and bias :math:`b_w`, NCE's logit is
# :math:`s(w) = e^\top u_w + b_w - \log(k\,Q(w))`, with :math:`Q` the noise
# distribution and :math:`k` the number of noise words; its loss tells the true
# word :math:`c` from the noise words :math:`n_j`:
#
# .. math::
#
#    \ell_\text{NCE} = -\log \sigma\big(s(c)\big) - \sum_{j=1}^{k} \log\big(1 - \sigma(s(n_j))\big).
#
# Subtracting :math:`\log kQ(w)` makes :math:`e^\top u_w + b_w` tend to
# :math:`\log p(w \mid \text{input})`: NCE estimates the softmax without its sum.
# Negative sampling drops the bias and the correction:
#
# .. math::
#
#    \ell_\text{SGNS} = -\log \sigma(e^\top u_c) - \sum_{j=1}^{k} \log \sigma(-e^\top u_{n_j}),
#
# so :math:`e^\top u_c` tends to the pointwise mutual information of word and
# context less :math:`\log k` (Levy and Goldberg, 2014): fine for vectors, not a
# probability. Adding back :math:`\log p(c)` (as a bias) makes it one again,
# which the page measures. Both twins get the same noise words, drawn in NumPy.
# (A third way round the softmax, the hierarchical softmax, is not trained here.)

# sphinx_gallery_thumbnail_number = 2
import time

import matplotlib.pyplot as plt
import numpy as np

import torchflow
from torchflow.baselines.cooccurrence import ppmi_svd, unigram_nats
from torchflow.data import load_shakespeare
from torchflow.metrics import (
    chunked_mean,
    mean_standard_error,
    nearest_neighbours,
    neighbour_agreement_with_noise,
    ppmi_vectors,
)
from torchflow.plot import FRAMEWORK_COLOURS, plot_curves
from torchflow.prep import words
from torchflow.training import StepClock, batch_indices, log_uniform_expected, log_uniform_negatives

run = torchflow.Run()
hp = torchflow.Settings(
    vocab_size=3_000, window=2, embedding_dim=64, batch_size=128, adam_epsilon=1e-8,
    num_sampled=64,  # NCE: noise words per step, shared by the batch
    negatives=5,  # SGNS: noise words per pair
    subsample=1e-3,  # SGNS: t of the keep probability sqrt(t / f)
    learning_rate={"nce": 1e-2, "sgns": 1e-2},
    steps=torchflow.scaled(smoke=40, cpu=3_000, full=30_000),
    eval_every=torchflow.scaled(smoke=20, cpu=500, full=2_000),
    eval_size=20_000, chunks=20,  # held-out pairs scored, in 20 contiguous chunks for the noise
    timing_steps=torchflow.scaled(smoke=10, cpu=500, full=1_000),
    neighbours=10, checked_words=200, seed=0,
)
run.chosen_by("NCE learning rate 1e-2 of 3e-3, 1e-2, 3e-2", study="studies/embeddings/learning-rates/results.md",
              evidence="validation NCE loss")
run.chosen_by("SGNS learning rate 1e-2 of 3e-3, 1e-2, 3e-2", study="studies/embeddings/sgns-learning-rate/results.md",
              evidence="validation neighbour agreement (the validation SGNS loss prefers 3e-3)")
LOSSES = {"nce": "NCE", "sgns": "SGNS"}
NATS, AGREEMENT = "held-out context nats", "neighbour agreement"
SPEED = "NCE step speed-up over the full softmax"
run.expect(f"NCE {NATS}", below_baseline_by=torchflow.scaled(smoke=None, cpu=0.0, full=0.0))
run.expect(SPEED, at_least=torchflow.scaled(smoke=None, cpu=1.0, full=1.0))
# smoke: NCE's validation loss fell below the untrained model's (a step that does not learn: 1)
UNTRAINED = "NCE validation loss, fraction of the untrained"
run.expect(UNTRAINED, at_most=torchflow.scaled(smoke=0.9, cpu=None, full=None))
hp

# %%
# The dimension flow, traced from the twins
# -----------------------------------------
# The lookup and the full-softmax scores that the sampled losses avoid (35
# words, dimension 2): two input words become two 2-D vectors and 35 scores each.
from torchflow.flow import draw_flows, trace_twins

flows = trace_twins("nce", "SkipGramNCE", np.zeros(2, np.int64), frameworks=torchflow.available_frameworks(),
                    model_kwargs=dict(vocab_size=35, embedding_dim=2))
fig = draw_flows(flows, title="skip-gram: word id -> embedding -> (full softmax scores, avoided by sampling)")

# %%
# Data, subsampling and the count baselines
# -----------------------------------------
# The previous page's split (80 / 10 / 10%), a vocabulary of 3,000, pairs within
# 2 positions. For SGNS, frequent words are first dropped at random: "the" is
# kept with probability :math:`\sqrt{t/f}`, words rarer than :math:`t` always.
corpus = load_shakespeare()
run.use_data(corpus)
vocabulary, train_ids, valid_ids, test_ids = words.split_stream(words.tokenize(corpus.text), hp.vocab_size)
counts = np.array(vocabulary.counts)
keep = words.keep_probability(counts, hp.subsample)
kept_ids = words.subsample(train_ids, keep, np.random.default_rng(hp.seed))
pairs = {split: words.skipgram_examples(ids, hp.window) for split, ids in
         (("train", train_ids), ("valid", valid_ids), ("test", test_ids))}
sgns_pairs = words.skipgram_examples(kept_ids, hp.window)
print(f"{len(pairs['train'][0]):,} training pairs; subsampling keeps {len(kept_ids) / len(train_ids):.0%} of "
      f"the words\n({vocabulary.words[0]!r} with probability {keep[0]:.2f}): {len(sgns_pairs[0]):,} SGNS pairs")

# %%
# The first baseline predicts every context word by its training frequency
# (add-one counts): its held-out cost in nats is what a skip-gram must beat.
# The second is the previous page's PPMI-SVD, here in 64 dimensions, window 2.
test_centers, test_contexts = (a[: hp.eval_size] for a in pairs["test"])
unigram, unigram_noise_se = chunked_mean(unigram_nats(train_ids, test_contexts, len(vocabulary)), hp.chunks)
for loss in LOSSES.values():
    run.baseline(f"{loss} {NATS}", unigram, "training frequency (unigram)", noise=unigram_noise_se,
                 higher_is_better=False)
print(f"unigram: {unigram:.3f} ± {unigram_noise_se:.3f} nats; uniform: {np.log(len(vocabulary)):.3f} nats")
checked = np.arange(hp.checked_words)
reference = nearest_neighbours(ppmi_vectors(np.concatenate([valid_ids, test_ids]), len(vocabulary))[checked],
                               hp.neighbours)


def agreement(table):
    return neighbour_agreement_with_noise(nearest_neighbours(np.asarray(table)[checked], hp.neighbours), reference)


svd_vectors = ppmi_svd(train_ids, len(vocabulary), hp.embedding_dim, window=hp.window)
svd_agreement, svd_noise = agreement(svd_vectors)
for loss in LOSSES.values():
    run.baseline(f"{loss} {AGREEMENT}", svd_agreement, f"PPMI-SVD ({hp.embedding_dim} dims)", noise=svd_noise,
                 higher_is_better=True)

# %%
# The noise, the same for both twins
# ----------------------------------
# NCE: 64 ids a step from the log-uniform distribution
# :math:`Q(w) = \log\frac{w + 2}{w + 1} / \log(V + 1)`, which assumes ids sorted
# by frequency (they are), with :math:`kQ` of every word the logits need
# (:func:`torchflow.training.log_uniform_negatives`), handed to
# ``tf.nn.nce_loss`` through ``sampled_values``. SGNS: 5 ids per pair from the
# unigram frequencies to the power 3/4, which draws rare words more often.
noise_3_4 = words.unigram_noise(counts)
print(f"P(noise = {vocabulary.words[0]!r}): log-uniform {log_uniform_expected([0], 1, len(vocabulary))[0]:.3f}, "
      f"unigram^(3/4) {noise_3_4[0]:.3f}")


def batches(loss, steps):
    """The arguments of ``model.<loss>_loss`` for each step, the same for both twins."""
    rng = np.random.default_rng(hp.seed + 2)
    centers, contexts = pairs["train"] if loss == "nce" else sgns_pairs
    for index in batch_indices(len(centers), hp.batch_size, steps, hp.seed):
        if loss == "nce":
            sampled, sampled_expected = log_uniform_negatives(hp.num_sampled, len(vocabulary), rng)
            yield (centers[index], contexts[index], sampled,
                   log_uniform_expected(contexts[index], hp.num_sampled, len(vocabulary)), sampled_expected)
        else:
            yield centers[index], contexts[index], words.draw_negatives(noise_3_4, (len(index), hp.negatives), rng)


# held-out sampled losses: the validation pairs against fixed noise
valid_c, valid_x = (a[: hp.eval_size] for a in pairs["valid"])
fixed, fixed_expected = log_uniform_negatives(hp.num_sampled, len(vocabulary), np.random.default_rng(hp.seed + 1))
held_out_negatives = words.draw_negatives(noise_3_4, (len(valid_c), hp.negatives), np.random.default_rng(hp.seed + 1))
held_out_batch = {"nce": (valid_c, valid_x, fixed, log_uniform_expected(valid_x, hp.num_sampled, len(vocabulary)),
                          fixed_expected), "sgns": (valid_c, valid_x, held_out_negatives)}
log_frequency = np.log((counts + 1) / (counts + 1).sum()).astype(np.float32)  # SGNS's bias, after training
chunks = np.array_split(np.arange(hp.eval_size), hp.chunks)


def train(loss, train_step, held_out, clock):
    """``hp.steps`` steps of one sampled loss; its training and validation curves."""
    curve, valid_curve, losses, untrained = [], [], [], held_out()
    for step, batch in enumerate(batches(loss, hp.steps), 1):
        with clock:
            losses.append(train_step(*batch))
        if step % hp.eval_every == 0 or step == hp.steps:
            curve.append(np.mean(losses))
            valid_curve.append(held_out())
            losses = []
    return dict(curve=curve, valid_curve=valid_curve, untrained=untrained, clock=clock)


# %%
# The model
# ---------
# One class, three losses: ``nce_loss``, ``sgns_loss`` and ``softmax_loss`` (the
# full softmax, timed against NCE).
#
# .. tab-set::
#    :sync-group: framework
#
#    .. tab-item:: PyTorch
#       :sync: torch
#
#       .. literalinclude:: /../torchflow/pt/nce.py
#          :language: python
#          :pyobject: SkipGramNCE
#
#    .. tab-item:: TensorFlow
#       :sync: tensorflow
#
#       .. literalinclude:: /../torchflow/tf/nce.py
#          :language: python
#          :pyobject: SkipGramNCE
#
# Training the PyTorch twin: the usual step with ``model.nce_loss`` or
# ``model.sgns_loss``; ``fused=True`` updates each table in one Adam kernel.
# The timing then runs one NCE and one full-softmax step in turn, in CPU time.
results, initial_weights = {}, {}
if run.trains("torch"):
    import torch

    from torchflow.convert import torch_state
    from torchflow.device import torch_device
    from torchflow.pt.nce import SkipGramNCE

    torch_dev = torch_device()

    def as_tensors(arrays):
        return [torch.as_tensor(a, device=torch_dev) for a in arrays]

    def make_step(model, loss):
        optimizer = torch.optim.Adam(model.parameters(), lr=hp.learning_rate.get(loss, hp.learning_rate["nce"]), eps=hp.adam_epsilon,
                                     fused=True)

        def train_step(*batch):
            value = getattr(model, f"{loss}_loss")(*as_tensors(batch))
            optimizer.zero_grad()
            value.backward()
            optimizer.step()  # SGNS never uses the bias: its gradient is None, and Adam skips it
            return value.item()
        return train_step

    results["torch"] = {"device": str(torch_dev)}
    for loss in LOSSES:
        torch.manual_seed(hp.seed)
        model = SkipGramNCE(len(vocabulary), hp.embedding_dim).to(torch_dev)
        initial_weights[loss] = torch_state(model)
        held_out = torch.no_grad()(lambda m=model, loss=loss: getattr(m, f"{loss}_loss")(
            *as_tensors(held_out_batch[loss])).item())
        r = results["torch"][loss] = train(loss, make_step(model, loss), held_out, StepClock())
        if loss == "sgns":
            with torch.no_grad():
                model.nce.bias.copy_(torch.as_tensor(log_frequency))
        with torch.no_grad():
            r["chunk_nats"] = [model.softmax_loss(*as_tensors((test_centers[i], test_contexts[i]))).item()
                               for i in chunks]
        r["embeddings"] = model.embeddings.weight.detach().cpu().numpy()
    timing = {}
    for loss in ("nce", "softmax"):
        torch.manual_seed(hp.seed)
        timing[loss] = (make_step(SkipGramNCE(len(vocabulary), hp.embedding_dim).to(torch_dev), loss),
                        StepClock(timer=time.process_time))
    for batch in batches("nce", hp.timing_steps):
        for loss, (step, clock) in timing.items():  # alternating: a busy spell slows both alike
            with clock:
                step(*(batch if loss == "nce" else batch[:2]))
    results["torch"]["timing"] = {loss: clock for loss, (_, clock) in timing.items()}

# %%
# Training the TensorFlow twin: the same steps, compiled with XLA; NCE calls
# ``tf.nn.nce_loss``; gradients are made dense before Adam (see
# :mod:`torchflow.tf.layers`); SGNS's unused bias is left out of its update.
if run.trains("tensorflow"):
    import keras
    import tensorflow as tf

    from torchflow.convert import copy_torch_to_keras
    from torchflow.device import tf_device
    from torchflow.tf.nce import SkipGramNCE

    keras.utils.set_random_seed(hp.seed)
    tf_dev = tf_device()

    def make_step(model, loss):
        optimizer = keras.optimizers.Adam(learning_rate=hp.learning_rate.get(loss, hp.learning_rate["nce"]),
                                          epsilon=hp.adam_epsilon)
        objective = getattr(model, f"{loss}_loss")
        # SGNS never uses the bias (its gradient would be None): leave it out of the update
        variables = [v for v in model.trainable_variables if loss != "sgns" or v is not model.nce.bias]

        @tf.function(jit_compile=True)
        def train_step(*batch):
            with tf.GradientTape() as tape:
                value = objective(*batch)
            gradients = [tf.convert_to_tensor(g) for g in tape.gradient(value, variables)]
            optimizer.apply_gradients(zip(gradients, variables))
            return value
        return lambda *batch: float(train_step(*batch))

    results["tensorflow"] = {"device": tf_dev}
    with tf.device(tf_dev):
        for loss in LOSSES:
            model = SkipGramNCE(len(vocabulary), hp.embedding_dim)
            if loss in initial_weights:
                copy_torch_to_keras(initial_weights[loss], model)
            score = tf.function(getattr(model, f"{loss}_loss"))
            r = results["tensorflow"][loss] = train(loss, make_step(model, loss),
                                                    lambda s=score, loss=loss: float(s(*held_out_batch[loss])),
                                                    StepClock())
            if loss == "sgns":
                model.nce.bias.assign(log_frequency)
            softmax = tf.function(model.softmax_loss, reduce_retracing=True)
            r["chunk_nats"] = [float(softmax(test_centers[i], test_contexts[i])) for i in chunks]
            r["embeddings"] = model.embeddings.embeddings.numpy()
        timing = {loss: (make_step(SkipGramNCE(len(vocabulary), hp.embedding_dim), loss),
                         StepClock(timer=time.process_time)) for loss in ("nce", "softmax")}
        for batch in batches("nce", hp.timing_steps):
            for loss, (step, clock) in timing.items():
                with clock:
                    step(*(batch if loss == "nce" else batch[:2]))
    results["tensorflow"]["timing"] = {loss: clock for loss, (_, clock) in timing.items()}

# %%
# Results
# -------
# Held-out context nats: the test pairs scored by the full softmax of each
# trained model (NCE's own scores; SGNS's scores plus the log training frequency
# as bias), ± the standard error over 20 stretches of text, against the unigram.
for framework, r in results.items():
    metrics, noise = {}, {}
    for loss, name in LOSSES.items():
        m = r[loss]
        m["nats"], m["nats_noise"] = np.mean(m["chunk_nats"]), mean_standard_error(m["chunk_nats"])
        m["agreement"], m["agreement_noise"] = agreement(m["embeddings"])
        metrics |= {f"{name} {NATS}": m["nats"], f"{name} {AGREEMENT}": m["agreement"],
                    f"{name} validation loss, fraction of the untrained": m["valid_curve"][-1] / m["untrained"]}
        noise |= {f"{name} {NATS}": m["nats_noise"], f"{name} {AGREEMENT}": m["agreement_noise"]}
    t = r["timing"]
    metrics[SPEED] = r["speed_up"] = t["softmax"].seconds_per_step / t["nce"].seconds_per_step
    run.record(framework, metrics, noise=noise, device=r["device"], clock=r["nce"]["clock"])
verdict = run.verdict()
verdict

# %%
for framework, r in results.items():
    print(f"{torchflow.frameworks.label(framework)}:")
    for loss, name in LOSSES.items():
        m = r[loss]
        print(f"  {name:>4}: {m['nats']:.3f} ± {m['nats_noise']:.3f} nats, agreement "
              f"{m['agreement']:.3f} ± {m['agreement_noise']:.3f}")
    print(f"  NCE step {1000 * r['timing']['nce'].seconds_per_step:.2f} CPU ms, full softmax "
          f"{1000 * r['timing']['softmax'].seconds_per_step:.2f} ({r['speed_up']:.1f} times slower)")
print(f"baselines: unigram {unigram:.3f} nats; PPMI-SVD agreement {svd_agreement:.3f} ± {svd_noise:.3f}")
if verdict.below_baseline and run.budget != "smoke":
    r = next(iter(results.values()))
    print(f"Finding: after {hp.steps:,} steps, set against the counts. Held-out context:\n"
          f"NCE {r['nce']['nats']:.3f}, SGNS {r['sgns']['nats']:.3f} nats against the unigram's {unigram:.3f}; "
          f"neighbour\nagreement: NCE {r['nce']['agreement']:.3f}, SGNS {r['sgns']['agreement']:.3f} "
          f"against the PPMI-SVD's {svd_agreement:.3f}.\nTen times the steps (the full budget) is measured "
          "on the validation split\nin studies/embeddings/negative-sampling-steps/results.md.")

# %%
# Loss curves
# -----------
# Each sampled loss on its training batches (solid) and on the validation pairs
# against fixed noise (dashed), both twins.
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, (loss, name) in zip(axes, LOSSES.items()):
    for kind, style in (("curve", "-"), ("valid_curve", "--")):
        curves = {f"{fw} {'train' if kind == 'curve' else 'validation'}": r[loss][kind] for fw, r in results.items()}
        plot_curves(curves, ax=ax, x={k: hp.eval_every * np.arange(1, len(v) + 1) for k, v in curves.items()},
                    xlabel="optimiser step", ylabel=f"{name} loss (nats per pair)", title=name)
        for line in ax.lines[-len(curves):]:
            line.set_linestyle(style)
    ax.legend(fontsize=7)
fig.suptitle("Skip-gram trained with NCE and with negative sampling, both twins")
fig.tight_layout()

# %%
# Nearest neighbours and time per step
# ------------------------------------
# The five nearest words to a few frequent words, PyTorch twin; then CPU
# milliseconds per step of NCE against the full softmax, whose (128, 64) ×
# (64, 3,000) product NCE avoids (both still pay for Adam over both tables).
probe = [w for w in ("king", "love", "good", "him", "thou", "night") if w in vocabulary]
tables = {"PPMI-SVD": svd_vectors} | {n: r[k]["embeddings"] for k, n in LOSSES.items() for r in list(results.values())[:1]}
for name, vectors in tables.items():
    found = nearest_neighbours(vectors, 5, rows=vocabulary.encode(probe))
    print(f"{name}:\n" + "\n".join(f"  {w:>5}: {' '.join(vocabulary.decode(row))}" for w, row in zip(probe, found)))
fig, ax = plt.subplots(figsize=(6, 3))
labels = [f"{torchflow.frameworks.label(fw)}\n{name}" for fw in results for name in ("NCE", "full softmax")]
values = [1000 * r["timing"][k].seconds_per_step for r in results.values() for k in ("nce", "softmax")]
ax.barh(labels, values, color=[FRAMEWORK_COLOURS.get(fw) for fw in results for _ in range(2)])
ax.set(xlabel="CPU ms per training step", title=f"One training step at a vocabulary of {len(vocabulary):,}")
fig.tight_layout()

# %%
# Comparison
# ----------
# The twins started from the same weights and saw the same batches and noise.
run.compare()

# %%
record = run.finish()
