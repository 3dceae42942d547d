"""Rank the translation page's decoders on several seeds of both twins (validation BLEU; test never scored).

    python studies/seq2seq/decoder-seeds/study.py [SEEDS] [STEPS] [BAHDANAU_RATES] [JSON LINES OF RUNS ALREADY MADE...]

The page's configuration (hidden 64, batches of 128, teacher forcing 0.5, each decoder at the
learning rate its own study chose; Bahdanau's chosen here first, on seed 0 of the PyTorch twin,
among BAHDANAU_RATES). Seed ``s`` draws the initial weights (PyTorch's, copied into the Keras
twin as on the page), the batch order and the teacher-forcing draws. One process, one line of
JSON per run. Results: ``studies/seq2seq/decoder-seeds/results.md``.
"""

import json
import sys
import time

import numpy as np

import torchflow  # noqa: F401  isort: skip  (thread and import-order settings)
import keras  # isort: skip
import tensorflow as tf  # isort: skip
import torch  # isort: skip

from torchflow.convert import copy_torch_to_keras, torch_state
from torchflow.data.translation import load_fra_eng
from torchflow.metrics import corpus_bleu
from torchflow.prep.sentences import draw_teacher_forcing, encode_batch, prepare_pairs
from torchflow.prep.split import split
from torchflow.pt import seq2seq as pt_s2s
from torchflow.tf import seq2seq as tf_s2s
from torchflow.training import batch_indices

seeds = [int(s) for s in sys.argv[1].split(",")] if len(sys.argv) > 1 else [0, 1, 2]
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 400
bahdanau_rates = [float(r) for r in sys.argv[3].split(",")] if len(sys.argv) > 3 else [3e-3, 1e-2]
MAX_LENGTH, HIDDEN, BATCH, RATIO = 19, 64, 128, 0.5  # the page's
pairs, french, english = prepare_pairs(load_fra_eng().pairs, max_words=MAX_LENGTH)
source, lengths = encode_batch([fr for fr, _ in pairs], french, MAX_LENGTH)
target, _ = encode_batch([en for _, en in pairs], english, MAX_LENGTH)
parts = split(len(pairs), test=2000, validation=1000, seed=0)
train, validation = parts.train, parts.validation  # the page's cpu split
references = [pairs[i][1] for i in validation]
DECODERS = {"plain": ("DecoderRNN", {}, 2e-2), "location": ("AttnDecoderRNN", {"max_length": MAX_LENGTH}, 1e-2),
            "bahdanau": ("BahdanauAttnDecoderRNN", {}, None), "luong": ("LuongAttnDecoderRNN",
                                                                         {"method": "general"}, 3e-3)}


def run(decoder: str, framework: str, seed: int, learning_rate: float) -> dict:
    class_name, kwargs, _ = DECODERS[decoder]
    rng = np.random.default_rng(seed + 1)
    teacher = np.stack([draw_teacher_forcing(rng, RATIO, MAX_LENGTH) for _ in range(steps)])
    batches = list(batch_indices(len(train), BATCH, steps, seed=seed))
    torch.manual_seed(seed)
    encoder = pt_s2s.EncoderRNN(len(french), HIDDEN)
    decoder_model = getattr(pt_s2s, class_name)(len(english), HIDDEN, **kwargs)
    started = time.process_time()
    if framework == "torch":
        optimizer = torch.optim.Adam([*encoder.parameters(), *decoder_model.parameters()], lr=learning_rate)
        for step, batch in enumerate(batches):
            index = train[batch]
            loss = pt_s2s.decode_loss(encoder, decoder_model, *(torch.as_tensor(a[index]) for a in
                                                                (source, lengths, target)),
                                      torch.as_tensor(teacher[step]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        tokens, _ = pt_s2s.greedy_decode(encoder, decoder_model, torch.as_tensor(source[validation]),
                                         torch.as_tensor(lengths[validation]), max_length=MAX_LENGTH)
    else:
        keras.utils.set_random_seed(seed)
        states = torch_state(encoder), torch_state(decoder_model)
        encoder = tf_s2s.EncoderRNN(len(french), HIDDEN)
        decoder_model = getattr(tf_s2s, class_name)(len(english), HIDDEN, **kwargs)
        for state, model in zip(states, (encoder, decoder_model)):
            copy_torch_to_keras(state, model)
        variables = encoder.trainable_variables + decoder_model.trainable_variables
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate, epsilon=1e-8)
        optimizer.build(variables)
        all_source, all_lengths, all_target = (tf.constant(a, tf.int32) for a in (source, lengths, target))

        @tf.function
        def step_fn(index, forcing):
            with tf.GradientTape() as tape:
                loss = tf_s2s.decode_loss(encoder, decoder_model, tf.gather(all_source, index),
                                          tf.gather(all_lengths, index), tf.gather(all_target, index), forcing)
            gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
            optimizer.apply_gradients(zip(gradients, variables))
            return loss

        for step, batch in enumerate(batches):
            step_fn(tf.constant(train[batch]), tf.constant(teacher[step]))
        tokens, _ = tf_s2s.greedy_decode(encoder, decoder_model, tf.gather(all_source, validation),
                                         tf.gather(all_lengths, validation), max_length=MAX_LENGTH)
    hypotheses = [english.decode(row) for row in np.asarray(tokens)]
    return dict(decoder=decoder, framework=framework, seed=seed, learning_rate=learning_rate, steps=steps,
                validation_bleu=round(corpus_bleu(hypotheses, references), 2),
                cpu_seconds=round(time.process_time() - started, 1))


if len(bahdanau_rates) == 1:  # given, not chosen here
    DECODERS["bahdanau"] = (*DECODERS["bahdanau"][:2], bahdanau_rates[0])
else:
    chosen = []
    for rate in bahdanau_rates:
        chosen.append(run("bahdanau", "torch", seeds[0], rate))
        print(json.dumps({"study": "bahdanau learning rate", **chosen[-1]}), flush=True)
    best = max(chosen, key=lambda r: r["validation_bleu"])["learning_rate"]
    DECODERS["bahdanau"] = (*DECODERS["bahdanau"][:2], best)
done = {(r["decoder"], r["framework"], r["seed"]) for r in map(json.loads, sys.argv[4:])}  # runs already made
for decoder in ("location", "plain", "luong", "bahdanau"):  # the disputed ranking first: a partial run still tells
    for seed in seeds:
        for framework in ("torch", "tensorflow"):
            if (decoder, framework, seed) not in done:
                print(json.dumps(run(decoder, framework, seed, DECODERS[decoder][2])), flush=True)
