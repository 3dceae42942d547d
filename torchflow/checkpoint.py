"""Training checkpoints in each framework's own format, checked by a small manifest before they are loaded.

The weights and the optimiser's state are written the way each framework's users write them:

* PyTorch: one ``torch.save`` of the state dicts (models, optimiser, the global random generator),
  read back with ``torch.load(path, weights_only=True)``, which unpickles tensors and plain
  containers only, never arbitrary objects (a checkpoint from elsewhere cannot run code);
* TensorFlow: a ``tf.train.Checkpoint`` of the models and the optimiser, written by a
  ``tf.train.CheckpointManager`` (numbered checkpoints, the newest ``max_to_keep`` kept, an index
  file updated only once a checkpoint is complete).

Beside each checkpoint lies its *manifest*, ``<checkpoint>.json``: the framework, the iteration
reached, the vocabularies (a model's embedding rows mean nothing without their words), the
NumPy generator's state and the size and SHA-256 of every file of the checkpoint.
:func:`check_checkpoint` reads it first and raises :class:`CheckpointError`, naming the file and
the fix, for a missing, truncated or changed file, the other framework's checkpoint, or one saved
with other vocabularies -- the mistakes that would otherwise load without a word, or fail deep in
``load_state_dict`` with a shape error. Files are written to a temporary name and renamed
(:func:`os.replace`), so a crash mid-write never leaves half a file under the real name.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FORMAT, VERSION = "torchflow-checkpoint-manifest", 2
FRAMEWORK_NAMES = {"torch": "PyTorch", "tensorflow": "TensorFlow"}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used here; the message names the file and the fix."""


def _manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _replace_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)  # atomic on POSIX and Windows: the old file or the new one, never half
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_manifest(path: str | os.PathLike, files: Sequence[Path], *, framework: str, iteration: int,
                   vocabularies: Mapping[str, Sequence[str]], **meta: Any) -> Path:
    """Write ``<path>.json`` describing the checkpoint ``path`` made of ``files``; returns its path."""
    if framework not in FRAMEWORK_NAMES:
        raise ValueError(f"unknown framework {framework!r}; use one of {', '.join(FRAMEWORK_NAMES)}")
    path = Path(path)
    header = {"format": FORMAT, "version": VERSION, "framework": framework, "iteration": int(iteration),
              "vocabularies": {name: list(words) for name, words in vocabularies.items()},
              "files": {f.name: {"bytes": f.stat().st_size, "sha256": _digest(f)} for f in map(Path, files)},
              **meta}
    manifest = _manifest_path(path)
    _replace_atomically(manifest, json.dumps(header).encode())
    return manifest


def check_checkpoint(path: str | os.PathLike, *, framework: str,
                     vocabularies: Mapping[str, Sequence[str]] | None = None) -> dict:
    """The manifest of the checkpoint ``path``, once its files, framework and (when given) vocabularies
    are checked; :class:`CheckpointError` otherwise."""
    path = Path(path)
    manifest = _manifest_path(path)
    if not manifest.is_file():
        exists = path.is_file() or any(path.parent.glob(path.name + ".*"))
        raise CheckpointError(f"{path}: " + ("no manifest beside it (not saved by torchflow.checkpoint?); save it "
                                             "with save_torch / save_keras" if exists else
                                             "no such checkpoint; check the path, or train from scratch"))
    try:
        header = json.loads(manifest.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{manifest} is corrupt ({type(error).__name__}); resume from an earlier "
                              f"checkpoint, or train from scratch") from None
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise CheckpointError(f"{manifest}: format {header.get('format')!r} version {header.get('version')!r}, "
                              f"expected {FORMAT!r} version {VERSION}; save the checkpoint again")
    for name, expected in header["files"].items():
        file = path.parent / name
        if not file.is_file() or file.stat().st_size != expected["bytes"] or _digest(file) != expected["sha256"]:
            found = "missing" if not file.is_file() else f"{file.stat().st_size:,} bytes"
            raise CheckpointError(f"{file} is truncated or changed since it was saved ({found}, "
                                  f"{expected['bytes']:,} written); delete it and resume from an earlier "
                                  f"checkpoint, or train from scratch")
    saved_by = header["framework"]
    if saved_by != framework:
        raise CheckpointError(
            f"{path} was saved by the {FRAMEWORK_NAMES[saved_by]} twin, not "
            f"{FRAMEWORK_NAMES.get(framework, framework)}: its weights and optimiser state are in "
            f"{FRAMEWORK_NAMES[saved_by]}'s format. Resume it with the {FRAMEWORK_NAMES[saved_by]} twin, "
            "or move the weights with torchflow.convert (the optimiser state does not carry over)")
    for name, words in (vocabularies or {}).items():
        saved = header["vocabularies"].get(name)
        if saved != list(words):
            size = ("missing" if saved is None else f"{len(saved)} words, "
                    f"{sum(a != b for a, b in zip(saved, words)) + abs(len(saved) - len(words))} of them different")
            raise CheckpointError(
                f"{path} was saved with another {name} vocabulary ({size}, against {len(words)} here): its "
                f"embedding rows number other words. Build the models from the checkpoint's vocabularies "
                f"(checkpoint_vocabularies({str(path)!r})), or train from scratch with the new data")
    return header


def checkpoint_vocabularies(path: str | os.PathLike) -> dict[str, list[str]]:
    """The words of each vocabulary saved with a checkpoint (to build its models before restoring them)."""
    return json.loads(_manifest_path(Path(path)).read_text())["vocabularies"]


# ----------------------------------------------------------------- PyTorch
def save_torch(path: str | os.PathLike, models: Mapping[str, Any], optimizer, *, iteration: int,
               vocabularies: Mapping[str, Sequence[str]], **meta: Any) -> Path:
    """``torch.save`` the models' and the optimiser's state dicts and PyTorch's generator, then the manifest."""
    import io

    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"models": {name: model.state_dict() for name, model in models.items()},
             "optimizer": optimizer.state_dict(),  # Adam's step count and moments: without them, another run
             "torch_rng": torch.get_rng_state()}  # dropout masks and torch.rand draws after the resume
    buffer = io.BytesIO()
    torch.save(state, buffer)
    _replace_atomically(path, buffer.getvalue())
    write_manifest(path, [path], framework="torch", iteration=iteration, vocabularies=vocabularies, **meta)
    return path


def load_torch(path: str | os.PathLike, models: Mapping[str, Any], optimizer, *,
               vocabularies: Mapping[str, Sequence[str]] | None = None) -> dict:
    """Check the checkpoint, then load it into (fresh) models and optimiser; returns the manifest."""
    import torch

    manifest = check_checkpoint(path, framework="torch", vocabularies=vocabularies)
    state = torch.load(path, weights_only=True)  # tensors and plain containers only: no code runs
    for name, model in models.items():
        model.load_state_dict(state["models"][name])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    return manifest


# ----------------------------------------------------------------- TensorFlow
def keras_checkpoint(models: Mapping[str, Any], optimizer):
    """A ``tf.train.Checkpoint`` tracking the models and the optimiser (its step count and moments)."""
    import tensorflow as tf

    return tf.train.Checkpoint(optimizer=optimizer, **models)


def save_keras(manager, *, iteration: int, vocabularies: Mapping[str, Sequence[str]], **meta: Any) -> Path:
    """``manager.save`` (a ``tf.train.CheckpointManager``) numbered ``iteration``, then the manifest."""
    prefix = Path(manager.save(checkpoint_number=iteration))
    files = sorted(f for f in prefix.parent.glob(prefix.name + ".*") if f.suffix != ".json")
    write_manifest(prefix, files, framework="tensorflow", iteration=iteration, vocabularies=vocabularies, **meta)
    return prefix


def load_keras(path: str | os.PathLike, models: Mapping[str, Any], optimizer, *,
               vocabularies: Mapping[str, Sequence[str]] | None = None) -> dict:
    """Check the checkpoint, then restore it into (fresh) models and optimiser; returns the manifest.

    The optimiser is built for the models' trainable variables first (in the order training passes
    them), so that its variables exist when the saved values arrive, and every saved value must find
    its variable (``assert_existing_objects_matched``)."""
    manifest = check_checkpoint(path, framework="tensorflow", vocabularies=vocabularies)
    optimizer.build([v for model in models.values() for v in model.trainable_variables])
    keras_checkpoint(models, optimizer).restore(str(path)).assert_existing_objects_matched()
    return manifest
