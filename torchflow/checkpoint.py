"""Training checkpoints: save mid-training, resume in fresh objects, and refuse the wrong file clearly.

A checkpoint holds everything that the rest of training depends on: the models'
weights, the optimiser's state (Adam's step count and running averages), the
vocabularies (their words: a model's embedding rows mean nothing without them),
the iteration reached, and the random generators' states. Both frameworks write
the same container, a NumPy ``.npz`` archive (no pickles): named arrays, plus one
JSON string with the metadata (format, framework, iteration, vocabularies, what
else the caller adds).

The file is written atomically: into a temporary file in the same folder, flushed
to disk, then renamed over the target with :func:`os.replace`, so that a crash
mid-write leaves the previous checkpoint intact and never a half-written one under
its name. Loading checks what it reads and raises :class:`CheckpointError`, naming
the file and the fix, for a truncated or foreign file, a checkpoint of the other
framework, or one saved with other vocabularies.

Framework glue (:func:`torch_training_state` / :func:`restore_torch`,
:func:`keras_training_state` / :func:`restore_keras`) turns modules and optimisers
into named arrays and back, without importing either framework here.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "torchflow-checkpoint"
VERSION = 1
META = "__meta__"
FRAMEWORK_NAMES = {"torch": "PyTorch", "tensorflow": "TensorFlow"}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used here; the message names the file and the fix."""


def save_checkpoint(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], *, framework: str, iteration: int,
                    vocabularies: Mapping[str, Sequence[str]], **meta: Any) -> Path:
    """Write ``arrays`` and the metadata to ``path`` atomically; returns the path."""
    if framework not in FRAMEWORK_NAMES:
        raise ValueError(f"unknown framework {framework!r}; use one of {', '.join(FRAMEWORK_NAMES)}")
    if META in arrays:
        raise ValueError(f"{META!r} is reserved for the checkpoint's metadata")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"format": FORMAT, "version": VERSION, "framework": framework, "iteration": int(iteration),
              "vocabularies": {name: list(words) for name, words in vocabularies.items()}, **meta}
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **{META: np.array(json.dumps(header))}, **{k: np.asarray(v) for k, v in arrays.items()})
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)  # atomic on POSIX and Windows: the old file or the new one, never half
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, *, framework: str,
                    vocabularies: Mapping[str, Sequence[str]] | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """``(arrays, metadata)`` of the checkpoint at ``path``, checked for ``framework`` and, when given,
    for ``vocabularies`` (the words the models being restored were built with)."""
    path = Path(path)
    fix_corrupt = "delete it and resume from an earlier checkpoint, or train from scratch"
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint; check the path, or train from scratch")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if META not in archive.files:
                raise CheckpointError(f"{path} is not a TorchFlow checkpoint (no metadata; a torch.save or "
                                      f"Keras file?); save it with torchflow.checkpoint.save_checkpoint")
            arrays = {name: archive[name] for name in archive.files}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise CheckpointError(f"{path} is truncated or corrupt ({type(error).__name__}: {error}); "
                              f"{fix_corrupt}") from None
    header = json.loads(str(arrays.pop(META)))
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise CheckpointError(f"{path}: format {header.get('format')!r} version {header.get('version')!r}, expected "
                              f"{FORMAT!r} version {VERSION}; save it again with this TorchFlow")
    saved_by = header["framework"]
    if saved_by != framework:
        raise CheckpointError(
            f"{path} was saved by the {FRAMEWORK_NAMES[saved_by]} twin, not "
            f"{FRAMEWORK_NAMES.get(framework, framework)}: its weights and optimiser state are in "
            f"{FRAMEWORK_NAMES[saved_by]}'s layout. Resume it with the {FRAMEWORK_NAMES[saved_by]} twin, "
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
    return arrays, header


def checkpoint_vocabularies(path: str | os.PathLike) -> dict[str, list[str]]:
    """The words of each vocabulary saved in a checkpoint (to build its models before restoring them)."""
    with np.load(Path(path), allow_pickle=False) as archive:
        return json.loads(str(archive[META]))["vocabularies"]


# ----------------------------------------------------------------- PyTorch
def torch_training_state(modules: Mapping[str, Any], optimizer) -> dict[str, np.ndarray]:
    """Named arrays of the modules' ``state_dict``, of an Adam-like optimiser's per-weight state, and of
    PyTorch's global random generator (dropout masks and ``torch.rand`` draws after the resume)."""
    import torch

    arrays = {f"model/{name}/{key}": value.detach().cpu().numpy()
              for name, module in modules.items() for key, value in module.state_dict().items()}
    arrays["rng/torch"] = torch.get_rng_state().numpy()
    for index, state in optimizer.state_dict()["state"].items():
        arrays.update({f"optimizer/{index}/{key}": np.asarray(value.detach().cpu().numpy()
                                                              if hasattr(value, "detach") else value)
                       for key, value in state.items()})
    return arrays


def restore_torch(arrays: Mapping[str, np.ndarray], modules: Mapping[str, Any], optimizer) -> None:
    """Load :func:`torch_training_state`'s arrays into fresh modules and their (fresh) optimiser."""
    import torch

    for name, module in modules.items():
        prefix = f"model/{name}/"
        module.load_state_dict({key[len(prefix):]: torch.as_tensor(value) for key, value in arrays.items()
                                if key.startswith(prefix)})
    if "rng/torch" in arrays:
        torch.set_rng_state(torch.as_tensor(arrays["rng/torch"]))
    state = optimizer.state_dict()
    per_weight: dict[int, dict[str, Any]] = {}
    for key, value in arrays.items():
        if key.startswith("optimizer/"):
            _, index, field = key.split("/")
            per_weight.setdefault(int(index), {})[field] = torch.as_tensor(value)
    state["state"] = per_weight
    optimizer.load_state_dict(state)


# ----------------------------------------------------------------- Keras
def keras_training_state(models: Mapping[str, Any], optimizer) -> dict[str, np.ndarray]:
    """Named arrays of the models' weights and of the optimiser's variables (in their fixed order)."""
    arrays = {f"model/{name}/{index:03d}": np.asarray(weight)
              for name, model in models.items() for index, weight in enumerate(model.get_weights())}
    arrays.update({f"optimizer/{index:03d}": np.asarray(variable)
                   for index, variable in enumerate(optimizer.variables)})
    return arrays


def restore_keras(arrays: Mapping[str, np.ndarray], models: Mapping[str, Any], optimizer) -> None:
    """Load :func:`keras_training_state`'s arrays into fresh models and a fresh optimiser.

    The optimiser is built for the models' trainable variables first (in the order training
    passes them), so that its variables exist to receive the saved values.
    """
    for name, model in models.items():
        prefix = f"model/{name}/"
        model.set_weights([arrays[key] for key in sorted(k for k in arrays if k.startswith(prefix))])
    optimizer.build([v for model in models.values() for v in model.trainable_variables])
    saved = [arrays[key] for key in sorted(k for k in arrays if k.startswith("optimizer/"))]
    if len(saved) != len(optimizer.variables):
        raise CheckpointError(f"the checkpoint holds {len(saved)} optimiser variables, this optimiser "
                              f"{len(optimizer.variables)}: another optimiser or other models")
    for variable, value in zip(optimizer.variables, saved):
        variable.assign(value)
