"""Checkpoints (``torchflow.checkpoint``): each framework's own format (``torch.save`` /
``torch.load(weights_only=True)``; ``tf.train.Checkpoint`` + ``CheckpointManager``) with a manifest.
Resuming equals not stopping, the write is atomic, and a wrong file (truncated, foreign, the other
framework's, another vocabulary's) is refused naming the file and the fix.

The models are the chatbot's: a bidirectional encoder and a Luong ``dot`` decoder, trained with
gradient clipping and teacher forcing drawn from a NumPy generator whose state the manifest keeps.
"""

import os

import numpy as np
import pytest

import torchflow  # noqa: F401  isort: skip
import keras  # isort: skip
import tensorflow as tf  # isort: skip
import torch  # isort: skip

from torchflow import checkpoint
from torchflow.checkpoint import CheckpointError, check_checkpoint
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


def _save(framework, folder, models, optimizer, iteration, **meta):
    if framework == "torch":
        return checkpoint.save_torch(folder / "chatbot.pt", models, optimizer, iteration=iteration,
                                     vocabularies=WORDS, **meta)
    manager = tf.train.CheckpointManager(checkpoint.keras_checkpoint(models, optimizer), folder, max_to_keep=2)
    return checkpoint.save_keras(manager, iteration=iteration, vocabularies=WORDS, **meta)


def _load(framework, path, models, optimizer, vocabularies=WORDS):
    load = checkpoint.load_torch if framework == "torch" else checkpoint.load_keras
    return load(path, models, optimizer, vocabularies=vocabularies)


FRAMEWORKS = {
    "torch": (_torch_models, _torch_run,
              lambda models: {f"{n}.{k}": v.detach().numpy().copy() for n, m in models.items()
                              for k, v in m.state_dict().items()}),
    "tensorflow": (_keras_models, _keras_run,
                   lambda models: {f"{n}.{i}": w for n, m in models.items() for i, w in enumerate(m.get_weights())}),
}


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_resuming_in_fresh_objects_gives_the_weights_of_not_stopping(framework, tmp_path):
    build, train, weights = FRAMEWORKS[framework]
    data = _data()
    models, optimizer = build()
    rng = np.random.default_rng(5)
    train(models, optimizer, rng, 0, 12, data)
    expected = weights(models)
    after_twelve = torch.get_rng_state()

    models, optimizer = build()
    rng = np.random.default_rng(5)
    train(models, optimizer, rng, 0, 6, data)
    path = _save(framework, tmp_path, models, optimizer, 6, rng=rng.bit_generator.state)
    del models, optimizer, rng

    models, optimizer = build(seed=1)  # other random weights: the checkpoint must overwrite all of them
    meta = _load(framework, path, models, optimizer)
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
    models, optimizer = _tiny_torch(0)
    path = checkpoint.save_torch(tmp_path / "a.pt", models, optimizer, iteration=1, vocabularies={})
    before = path.read_bytes()

    def crash(source, target):
        raise KeyboardInterrupt  # killed between writing the new file and renaming it

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save_torch(path, *_tiny_torch(1), iteration=2, vocabularies={})
    assert path.read_bytes() == before, "the previous checkpoint was damaged"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt", "a.pt.json"], "a temporary file was left behind"


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_wrong_files_are_refused_with_the_file_and_the_fix(framework, tmp_path):
    build = _tiny_torch if framework == "torch" else _tiny_keras
    models, optimizer = build(0)
    _tiny_steps(framework, models, optimizer, 1)
    path = _save(framework, tmp_path, models, optimizer, 3)
    meta = _load(framework, path, *build(1))
    assert meta["iteration"] == 3 and checkpoint.checkpoint_vocabularies(path) == WORDS

    other = {"tensorflow": "torch", "torch": "tensorflow"}[framework]
    name = checkpoint.FRAMEWORK_NAMES[framework]
    with pytest.raises(CheckpointError, match=rf"{path.name} was saved by the {name} twin.*Resume it with the {name}"):
        check_checkpoint(path, framework=other)
    words = {**WORDS, "target": WORDS["target"][:-1] + ["new"]}
    with pytest.raises(CheckpointError, match=rf"{path.name} was saved with another target vocabulary.*checkpoint_voc"):
        _load(framework, path, *build(1), vocabularies=words)

    data = max((f for f in tmp_path.iterdir() if f.suffix != ".json" and f.name.startswith(path.name)),
               key=lambda f: f.stat().st_size)
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=rf"{data.name} is truncated or changed.*delete it"):
        _load(framework, path, *build(1))

    foreign = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, foreign)
    with pytest.raises(CheckpointError, match=r"model\.pt: no manifest"):
        check_checkpoint(foreign, framework="torch")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        check_checkpoint(tmp_path / "missing.pt", framework="torch")
    with pytest.raises(ValueError, match="unknown framework"):
        checkpoint.write_manifest(tmp_path / "x", [], framework="jax", iteration=0, vocabularies={})


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
    build = _tiny_torch if framework == "torch" else _tiny_keras
    models, optimizer = build(0)
    _tiny_steps(framework, models, optimizer, 3)
    saved = _optimiser_arrays(framework, optimizer)
    generator = torch.get_rng_state().clone()
    path = _save(framework, tmp_path, models, optimizer, 3)
    torch.rand(5)  # move the global generator on: the restore must bring it back

    models, optimizer = build(1)
    meta = _load(framework, path, models, optimizer)
    assert meta["iteration"] == 3
    restored = _optimiser_arrays(framework, optimizer)
    assert len(restored) == len(saved) and any(np.any(a != 0) for a in saved)
    for got, want in zip(restored, saved):
        np.testing.assert_array_equal(got, want)
    if framework == "torch":
        assert torch.equal(torch.get_rng_state(), generator)


def _rewrite_manifest(path, **changes):
    """Change the manifest's fields (a crafted header); the checkpoint's files keep their digests."""
    import json

    manifest = path.with_name(path.name + ".json")
    header = json.loads(manifest.read_text())
    header.update(changes)
    manifest.write_text(json.dumps(header))


@pytest.mark.parametrize("change", [
    {"files": None}, {"files": {"../elsewhere.pt": {"bytes": 1, "sha256": "0"}}}, {"files": {"a.pt": 3}},
    {"framework": "jax"}, {"iteration": "3"}, {"vocabularies": {"source": [1, 2]}}, {"vocabularies": None},
], ids=["no-files", "a-file-outside", "a-file-entry-not-a-dict", "unknown-framework", "iteration-a-string",
        "words-not-strings", "no-vocabularies"])
def test_a_crafted_manifest_is_refused_with_a_checkpoint_error_never_a_raw_one(change, tmp_path):
    models, optimizer = _tiny_torch(0)
    path = checkpoint.save_torch(tmp_path / "a.pt", models, optimizer, iteration=1, vocabularies={"w": ["x"]})
    _rewrite_manifest(path, **change)
    with pytest.raises(CheckpointError, match="not a manifest torchflow.checkpoint wrote"):
        check_checkpoint(path, framework="torch")
    with pytest.raises(CheckpointError, match="not a manifest torchflow.checkpoint wrote"):
        checkpoint.checkpoint_vocabularies(path)


def test_checkpoint_vocabularies_names_a_missing_or_damaged_manifest(tmp_path):
    with pytest.raises(CheckpointError, match="no manifest beside it"):
        checkpoint.checkpoint_vocabularies(tmp_path / "missing.pt")
    (tmp_path / "bad.pt.json").write_bytes(b"\xff\xfe not json")
    with pytest.raises(CheckpointError, match="is corrupt"):
        checkpoint.checkpoint_vocabularies(tmp_path / "bad.pt")
    (tmp_path / "list.pt.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="expected 'torchflow-checkpoint-manifest'"):
        checkpoint.checkpoint_vocabularies(tmp_path / "list.pt")


def test_a_file_that_matches_its_manifest_but_is_no_torch_checkpoint_is_refused(tmp_path):
    models, optimizer = _tiny_torch(0)
    path = tmp_path / "a.pt"
    for payload in (b"not a zip or a pickle", None):
        if payload is None:  # a real torch.save file without the entries save_torch writes
            torch.save({"weights": torch.ones(2)}, path)
        else:
            path.write_bytes(payload)
        checkpoint.write_manifest(path, [path], framework="torch", iteration=1, vocabularies={})
        with pytest.raises(CheckpointError, match="not a PyTorch checkpoint torch.load can read|not written by save"):
            checkpoint.load_torch(path, *_tiny_torch(1))
    path = checkpoint.save_torch(path, models, optimizer, iteration=1, vocabularies={})
    with pytest.raises(CheckpointError, match="no weights for critic"):
        checkpoint.load_torch(path, {**_tiny_torch(1)[0], "critic": torch.nn.Linear(2, 2)}, _tiny_torch(1)[1])


def test_an_optimiser_state_of_another_model_is_refused_not_loaded(tmp_path):
    """torch's load_state_dict checks parameter counts only: Adam's moments of other shapes would load."""
    models, optimizer = _tiny_torch(0)
    _tiny_steps("torch", models, optimizer, 2)  # Adam now holds moments of each parameter's shape
    path = checkpoint.save_torch(tmp_path / "a.pt", models, optimizer, iteration=2, vocabularies={})
    fresh, _ = _tiny_torch(1)
    reversed_order = torch.optim.Adam([p for m in fresh.values() for p in m.parameters()][::-1], lr=0.01)
    with pytest.raises(CheckpointError, match="the state of another model"):
        checkpoint.load_torch(path, fresh, reversed_order)
    fewer = torch.optim.Adam(list(next(iter(fresh.values())).parameters())[:1], lr=0.01)
    with pytest.raises(CheckpointError, match="parameter groups of other sizes"):
        checkpoint.load_torch(path, fresh, fewer)
    checkpoint.load_torch(path, *_tiny_torch(1))  # the right optimiser still loads


def test_a_killed_saves_temporary_file_is_removed_by_the_next_save(tmp_path):
    import time

    models, optimizer = _tiny_torch(0)
    stale, fresh = tmp_path / ".a.pt.killed1.tmp", tmp_path / ".a.pt.running.tmp"
    stale.write_bytes(b"half a checkpoint")
    fresh.write_bytes(b"another save, still writing")
    old = time.time() - checkpoint.STALE_SECONDS - 60
    os.utime(stale, (old, old))
    checkpoint.save_torch(tmp_path / "a.pt", models, optimizer, iteration=1, vocabularies={})
    assert not stale.exists(), "a killed save's temporary file was left behind"
    assert fresh.exists(), "a temporary file of a save that may still be running was removed"
