"""Checkpoints (``torchflow.checkpoint``): resuming equals not stopping, the write is atomic, and a wrong
file (truncated, foreign, the other framework's, another vocabulary's) is refused naming the file and the fix.

The models are the chatbot's: a bidirectional encoder and a Luong ``dot`` decoder, trained with
gradient clipping and teacher forcing drawn from a NumPy generator whose state the checkpoint keeps.
"""

import numpy as np
import pytest

import torchflow  # noqa: F401  isort: skip
import keras  # isort: skip
import tensorflow as tf  # isort: skip
import torch  # isort: skip

from torchflow import checkpoint
from torchflow.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from torchflow.pt import seq2seq as pt_s2s
from torchflow.tf import seq2seq as tf_s2s

VOCAB, HIDDEN, STEPS, BATCH = 23, 8, 6, 4
WORDS = {"source": [f"w{i}" for i in range(VOCAB)], "target": [f"v{i}" for i in range(VOCAB)]}


def _data(seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, STEPS + 1, 40)
    source = rng.integers(3, VOCAB, (40, STEPS))
    source[np.arange(STEPS)[None] >= lengths[:, None]] = 0
    target = rng.integers(3, VOCAB, (40, STEPS))
    target[np.arange(STEPS)[None] >= rng.integers(1, STEPS + 1, 40)[:, None]] = 0
    return source, lengths, target


def _torch_run(models, optimizer, rng, start, stop, data):
    encoder, decoder = models["encoder"], models["decoder"]
    source, lengths, target = data
    for step in range(start, stop):
        index = np.arange(step * BATCH, (step + 1) * BATCH) % len(source)
        teacher = torch.as_tensor(rng.random(STEPS) < 0.7)
        loss = pt_s2s.decode_loss(encoder, decoder, *(torch.as_tensor(a[index]) for a in (source, lengths, target)),
                                  teacher)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([*encoder.parameters(), *decoder.parameters()], 1.0)
        optimizer.step()


def _keras_run(models, optimizer, rng, start, stop, data):
    encoder, decoder = models["encoder"], models["decoder"]
    variables = encoder.trainable_variables + decoder.trainable_variables
    source, lengths, target = data
    for step in range(start, stop):
        index = np.arange(step * BATCH, (step + 1) * BATCH) % len(source)
        teacher = tf.constant(rng.random(STEPS) < 0.7)
        with tf.GradientTape() as tape:
            loss = tf_s2s.decode_loss(encoder, decoder, *(tf.constant(a[index]) for a in (source, lengths, target)),
                                      teacher)
        gradients, _ = tf.clip_by_global_norm([tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)], 1.0)
        optimizer.apply_gradients(zip(gradients, variables))


def _torch_models(seed=0):
    torch.manual_seed(seed)
    models = {"encoder": pt_s2s.EncoderRNN(VOCAB, HIDDEN, bidirectional=True),
              "decoder": pt_s2s.LuongAttnDecoderRNN(VOCAB, HIDDEN, method="dot")}
    return models, torch.optim.Adam([p for m in models.values() for p in m.parameters()], lr=1e-2, eps=1e-8)


def _keras_models(seed=0):
    keras.utils.set_random_seed(seed)
    models = {"encoder": tf_s2s.EncoderRNN(VOCAB, HIDDEN, bidirectional=True),
              "decoder": tf_s2s.LuongAttnDecoderRNN(VOCAB, HIDDEN, method="dot")}
    return models, keras.optimizers.Adam(learning_rate=1e-2, epsilon=1e-8)


FRAMEWORKS = {
    "torch": (_torch_models, _torch_run, checkpoint.torch_training_state, checkpoint.restore_torch,
              lambda models: {f"{n}.{k}": v.detach().numpy().copy() for n, m in models.items()
                              for k, v in m.state_dict().items()}),
    "tensorflow": (_keras_models, _keras_run, checkpoint.keras_training_state, checkpoint.restore_keras,
                   lambda models: {f"{n}.{i}": w for n, m in models.items() for i, w in enumerate(m.get_weights())}),
}


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_resuming_in_fresh_objects_gives_the_weights_of_not_stopping(framework, tmp_path):
    build, train, state_of, restore, weights = FRAMEWORKS[framework]
    data = _data()
    models, optimizer = build()
    rng = np.random.default_rng(5)
    train(models, optimizer, rng, 0, 12, data)
    expected = weights(models)
    after_twelve = torch.get_rng_state()

    models, optimizer = build()
    rng = np.random.default_rng(5)
    train(models, optimizer, rng, 0, 6, data)
    path = save_checkpoint(tmp_path / "chatbot.ckpt", state_of(models, optimizer), framework=framework,
                           iteration=6, vocabularies=WORDS, rng=rng.bit_generator.state)
    del models, optimizer, rng

    models, optimizer = build(seed=1)  # other random weights: the checkpoint must overwrite all of them
    arrays, meta = load_checkpoint(path, framework=framework, vocabularies=WORDS)
    restore(arrays, models, optimizer)
    rng = np.random.default_rng()
    rng.bit_generator.state = meta["rng"]
    train(models, optimizer, rng, meta["iteration"], 12, data)
    got = weights(models)
    if framework == "torch":  # the global generator continues where it was saved
        assert torch.equal(torch.get_rng_state(), after_twelve)
    assert list(got) == list(expected)
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


def test_the_write_is_atomic(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "a.ckpt", {"w": np.ones(3)}, framework="torch", iteration=1, vocabularies={})
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"half a checkpoint")
        raise KeyboardInterrupt  # killed mid-write

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"w": np.zeros(3)}, framework="torch", iteration=2, vocabularies={})
    assert path.read_bytes() == before, "the previous checkpoint was damaged"
    assert [p.name for p in tmp_path.iterdir()] == ["a.ckpt"], "a temporary file was left behind"


def test_wrong_files_are_refused_with_the_file_and_the_fix(tmp_path):
    path = save_checkpoint(tmp_path / "bot.ckpt", {"w": np.ones((50, 50))}, framework="torch", iteration=3,
                           vocabularies=WORDS)
    arrays, meta = load_checkpoint(path, framework="torch", vocabularies=WORDS)
    assert meta["iteration"] == 3 and arrays["w"].shape == (50, 50)
    assert checkpoint.checkpoint_vocabularies(path) == WORDS

    with pytest.raises(CheckpointError, match=r"bot\.ckpt was saved by the PyTorch twin.*Resume it with the PyTorch"):
        load_checkpoint(path, framework="tensorflow")
    other = {**WORDS, "target": WORDS["target"][:-1] + ["new"]}
    with pytest.raises(CheckpointError, match=r"bot\.ckpt was saved with another target vocabulary.*checkpoint_voc"):
        load_checkpoint(path, framework="torch", vocabularies=other)

    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"truncated\.ckpt is truncated or corrupt.*delete it"):
        load_checkpoint(truncated, framework="torch")

    foreign = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, foreign)
    with pytest.raises(CheckpointError, match=r"model\.pt is not a TorchFlow checkpoint"):
        load_checkpoint(foreign, framework="torch")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.ckpt", framework="torch")
    with pytest.raises(ValueError, match="unknown framework"):
        save_checkpoint(tmp_path / "x.ckpt", {}, framework="jax", iteration=0, vocabularies={})


def _tiny_torch(seed):
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 2)
    return {"dense": model}, torch.optim.Adam(model.parameters(), lr=0.1)


def _tiny_keras(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    return {"dense": model}, keras.optimizers.Adam(learning_rate=0.1)


def _tiny_steps(framework, models, optimizer, steps):
    x = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    for _ in range(steps):
        if framework == "torch":
            optimizer.zero_grad()
            (models["dense"](torch.as_tensor(x)) ** 2).sum().backward()
            optimizer.step()
        else:
            variables = models["dense"].trainable_variables
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(models["dense"](x) ** 2)
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))


def _optimiser_arrays(framework, optimizer):
    if framework == "torch":
        return [np.asarray(v) for s in optimizer.state_dict()["state"].values() for v in s.values()]
    return [np.asarray(v) for v in optimizer.variables]


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_optimiser_state_iteration_and_generator_survive_a_round_trip(framework, tmp_path):
    """A one-layer model after 3 Adam steps: the fresh objects get its step count and moments, the
    iteration, and (PyTorch) the global generator -- each by value, not only "training still runs"."""
    build, state_of, restore = ((_tiny_torch, checkpoint.torch_training_state, checkpoint.restore_torch)
                                if framework == "torch" else
                                (_tiny_keras, checkpoint.keras_training_state, checkpoint.restore_keras))
    models, optimizer = build(0)
    _tiny_steps(framework, models, optimizer, 3)
    saved = _optimiser_arrays(framework, optimizer)
    generator = torch.get_rng_state().clone()
    path = save_checkpoint(tmp_path / "tiny.ckpt", state_of(models, optimizer), framework=framework, iteration=3,
                           vocabularies={})
    torch.rand(5)  # move the global generator on: the restore must bring it back

    models, optimizer = build(1)
    arrays, meta = load_checkpoint(path, framework=framework)
    restore(arrays, models, optimizer)
    assert meta["iteration"] == 3
    restored = _optimiser_arrays(framework, optimizer)
    assert len(restored) == len(saved) and any(np.any(a != 0) for a in saved)
    for got, want in zip(restored, saved):
        np.testing.assert_array_equal(got, want)
    if framework == "torch":
        assert torch.equal(torch.get_rng_state(), generator)
