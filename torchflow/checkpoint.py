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

import glob
import hashlib
import json
import os
import tempfile
import time
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


# A temporary file of a save older than this was left by a save that was killed: the next save removes it.
STALE_SECONDS = 600


def _remove_stale_temporaries(path: Path) -> None:
    now = time.time()
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if now - leftover.stat().st_mtime > STALE_SECONDS:
                leftover.unlink()
        except OSError:  # another process removed it, or it cannot be removed: the save goes on
            pass


def _replace_atomically(path: Path, data: bytes) -> None:
    _remove_stale_temporaries(path)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)  # a name of this writer's own: two saves never write into one file
    try:
        with os.fdopen(handle, "wb") as file:
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


def _read_manifest(manifest: Path) -> dict:
    """The manifest's header, once its format and the type of every field are checked."""
    try:
        header = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{manifest} is corrupt ({type(error).__name__}); resume from an earlier "
                              f"checkpoint, or train from scratch") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
        found = header if not isinstance(header, dict) else f"format {header.get('format')!r} version " \
                                                              f"{header.get('version')!r}"
        raise CheckpointError(f"{manifest}: {str(found)[:80]}, expected {FORMAT!r} version {VERSION}; save the "
                              "checkpoint again")
    files, vocabularies = header.get("files"), header.get("vocabularies")
    well_formed = (
        header.get("framework") in FRAMEWORK_NAMES
        and isinstance(header.get("iteration"), int) and not isinstance(header.get("iteration"), bool)
        and isinstance(files, dict) and files
        and all(isinstance(name, str) and name and Path(name).name == name and isinstance(entry, dict)
                and isinstance(entry.get("bytes"), int) and isinstance(entry.get("sha256"), str)
                for name, entry in files.items())
        and isinstance(vocabularies, dict)
        and all(isinstance(words, list) and all(isinstance(word, str) for word in words)
                for words in vocabularies.values()))
    if not well_formed:
        raise CheckpointError(f"{manifest} is not a manifest torchflow.checkpoint wrote (a field is missing, of "
                              "the wrong type, or names a file outside the checkpoint's folder); resume from "
                              "an earlier checkpoint, or train from scratch")
    return header


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
    header = _read_manifest(manifest)
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
    """The words of each vocabulary saved with a checkpoint (to build its models before restoring them);
    :class:`CheckpointError` for a missing or damaged manifest."""
    manifest = _manifest_path(Path(path))
    if not manifest.is_file():
        raise CheckpointError(f"{path}: no manifest beside it, so no vocabularies; check the path, or train "
                              "from scratch")
    return _read_manifest(manifest)["vocabularies"]


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
    try:
        state = torch.load(path, weights_only=True)  # tensors and plain containers only: no code runs
    except Exception as error:  # an unpickling or zip error: the file matches its manifest but is no checkpoint
        raise CheckpointError(f"{path} is not a PyTorch checkpoint torch.load can read ({type(error).__name__}: "
                              f"{str(error)[:120]}); save it again with save_torch") from None
    if not isinstance(state, dict) or not {"models", "optimizer", "torch_rng"} <= set(state):
        raise CheckpointError(f"{path} holds no models, optimizer and torch_rng entries: not written by "
                              "save_torch; save it again")
    missing = sorted(set(models) - set(state["models"]))
    if missing:
        raise CheckpointError(f"{path} has no weights for {', '.join(missing)} (it holds "
                              f"{', '.join(sorted(state['models'])) or 'none'}); pass the models it was saved with")
    _check_optimizer_state(path, optimizer, state["optimizer"])
    for name, model in models.items():
        model.load_state_dict(state["models"][name])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    return manifest


def _check_optimizer_state(path: Path, optimizer, saved: dict) -> None:
    """The saved optimiser state must be one for ``optimizer``'s parameters: the same groups and parameter
    counts (which ``load_state_dict`` checks too) and, for every per-parameter tensor (Adam's moments), the
    parameter's shape (which it does not: another model's moments would be loaded without a word)."""
    import torch

    groups = saved.get("param_groups") if isinstance(saved, dict) else None
    if not isinstance(groups, list) or [len(g.get("params", ())) for g in groups] != \
            [len(g["params"]) for g in optimizer.param_groups]:
        raise CheckpointError(f"{path}: the saved optimiser state has parameter groups of other sizes than this "
                              "optimiser's; build the optimiser over the same models, in the same order")
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    ids = [index for group in groups for index in group["params"]]
    for index, parameter in zip(ids, parameters):
        for key, value in saved.get("state", {}).get(index, {}).items():
            if isinstance(value, torch.Tensor) and value.ndim > 0 and value.shape != parameter.shape:
                raise CheckpointError(
                    f"{path}: the optimiser's {key!r} for parameter {index} has shape {tuple(value.shape)}, the "
                    f"parameter {tuple(parameter.shape)}: the state of another model; build the models as they "
                    "were saved (checkpoint_vocabularies gives their vocabularies)")


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
