"""Tracing: run a small batch through a model and record the shape of every intermediate tensor.

Three kinds of model can be traced:

- the explicit-weight twins (VAE, GAN, ...), which expose
  ``activations(*inputs) -> {name: tensor}``, in order;
- a PyTorch ``nn.Module``: a forward hook on every leaf module (a module called
  twice, like a shared pooling layer, appears twice);
- a Keras model: every leaf layer's output during one eager call.

:func:`trace_blocks` records only the outputs of named sub-modules (or Keras
layers), grouped into blocks such as ``stem``, ``layer1``, ..., ``fc``.
:func:`trace_twins` builds both twins of a family declared in
:mod:`torchflow.families` and traces each.

Shapes are reported in one layout. PyTorch's image tensors are channels-first
(``(B, C, H, W)``), TensorFlow's channels-last (``(B, H, W, C)``); by default
the PyTorch shapes of convolutional tensors are reported channels-last too
(``layout="channels_last"``), ``layout="channels_first"`` does the opposite and
``layout="native"`` leaves each framework's own.

This module imports no framework at import time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

LAYOUTS = ("channels_last", "channels_first", "native")
BATCH = "B"


@dataclass(frozen=True)
class Step:
    """One tensor of a model's dimension flow.

    ``shape`` includes the batch dimension, written ``"B"``; ``features`` is the
    shape without it. ``layout`` says how convolutional shapes are ordered.
    """

    name: str
    shape: tuple[int | str, ...]
    kind: str = ""
    layout: str = "channels_last"

    @property
    def features(self) -> tuple[int | str, ...]:
        return self.shape[1:] if self.shape and self.shape[0] == BATCH else self.shape

    @property
    def size(self) -> int:
        """Number of values per example (product of ``features``)."""
        return math.prod(int(d) for d in self.features if isinstance(d, int)) if self.features else 1

    def shape_text(self, batch: bool = False) -> str:
        dims = self.shape if batch else self.features
        if not dims:
            return "scalar"
        return " × ".join(str(d) for d in dims)

    def __str__(self) -> str:
        return f"{self.name} ({', '.join(str(d) for d in self.shape)})"


def framework_of(model: Any) -> str:
    """``"torch"`` or ``"tensorflow"``: which framework a model (or twin) belongs to."""
    module = type(model).__module__
    for klass in type(model).__mro__:
        root = klass.__module__.split(".")[0]
        if root == "torch" or klass.__module__.startswith("torchflow.pt"):
            return "torch"
        if root in {"keras", "tensorflow", "tf_keras"} or klass.__module__.startswith("torchflow.tf"):
            return "tensorflow"
    parameters = getattr(model, "parameters", None)
    if callable(parameters):
        for value in parameters():
            root = type(value).__module__.split(".")[0]
            if root == "torch":
                return "torch"
            if root in {"tensorflow", "keras"}:
                return "tensorflow"
            break
    raise TypeError(f"cannot tell the framework of {type(model).__name__} (module {module})")


def _as_input(value: Any, framework: str) -> Any:
    """NumPy arrays become tensors of the model's framework; everything else passes through."""
    if not isinstance(value, np.ndarray):
        return value
    if framework == "torch":
        import torch

        return torch.as_tensor(value)
    import tensorflow as tf

    return tf.convert_to_tensor(value)


def _shape_of(tensor: Any) -> tuple[int, ...] | None:
    shape = getattr(tensor, "shape", None)
    if shape is None:
        return None
    return tuple(int(d) if d is not None else -1 for d in shape)


def _step(name: str, shape: tuple[int, ...], framework: str, layout: str, channels_first: bool,
          kind: str = "", batch_size: int | None = None) -> Step:
    dims: list[int | str] = list(shape)
    if layout != "native" and len(dims) >= 3:
        if framework == "torch" and channels_first and layout == "channels_last":
            dims = [dims[0], *dims[2:], dims[1]]
        elif framework == "tensorflow" and channels_first and layout == "channels_first":
            dims = [dims[0], dims[-1], *dims[1:-1]]
    if dims and batch_size is not None and dims[0] == batch_size:
        dims[0] = BATCH
    return Step(name, tuple(dims), kind, layout if layout != "native" else f"native ({framework})")


def _outputs(value: Any) -> list[tuple[str, Any]]:
    """The tensors in a module's output: itself, or the items of a tuple / list / dict."""
    if _shape_of(value) is not None:
        return [("", value)]
    if isinstance(value, Mapping):
        return [(f".{key}", v) for key, v in value.items() if _shape_of(v) is not None]
    if isinstance(value, (tuple, list)):
        return [(f".{i}", v) for i, v in enumerate(value) if _shape_of(v) is not None]
    return []


def _batch_size(inputs: Sequence[Any]) -> int | None:
    for value in inputs:
        shape = _shape_of(value)
        if shape:
            return shape[0]
    return None


_CONV_WORDS = ("Conv", "Pool", "BatchNorm", "InstanceNorm", "Upsample", "PixelShuffle", "Dropout2d")


def _is_spatial(shape: tuple, kind: str) -> bool:
    """Whether a traced output is drawn as an image-like block (N-d maps, or 3-d from a conv-like layer)."""
    return len(shape) >= 4 or (len(shape) == 3 and any(word in kind for word in _CONV_WORDS))


def _run_torch_hooked(model: Any, hooks: Sequence[tuple[Any, Callable]], inputs: Sequence[Any],
                      kwargs: dict) -> None:
    """One forward pass in eval mode without gradients, with forward ``hooks`` on the given modules."""
    import torch

    handles = [module.register_forward_hook(hook) for module, hook in hooks]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(*inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)


def _recording(bound: Callable, label: str, kind: str, record: Callable[[str, str, Any], None]) -> Callable:
    """``bound`` (a layer's ``call``) that also hands its output to ``record(label, kind, output)``."""
    def call(*args, **kw):
        output = bound(*args, **kw)
        record(label, kind, output)
        return output
    return call


def _run_keras_patched(model: Any, layers: Sequence[tuple[Any, str, str]], record: Callable[[str, str, Any], None],
                       inputs: Sequence[Any], kwargs: dict) -> None:
    """One inference call of ``model`` in which each (layer, label, kind) reports its output to ``record``."""
    patched = []
    try:
        for layer, label, kind in layers:
            patched.append((layer, layer.__dict__.get("call")))
            object.__setattr__(layer, "call", _recording(layer.call, label, kind, record))
        model(*inputs, training=False, **kwargs) if _accepts_training(model) else model(*inputs, **kwargs)
    finally:
        for layer, original in reversed(patched):
            if original is None:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", original)


def _trace_activations(model: Any, inputs: Sequence[Any], kwargs: dict, framework: str,
                       layout: str) -> list[Step]:
    values = model.activations(*inputs, **kwargs)
    batch = _batch_size(inputs)
    steps = []
    for name, tensor in values.items():
        shape = _shape_of(tensor)
        if shape is None:
            continue
        # explicit twins: a rank-4/5 PyTorch tensor is channels-first, a TF one channels-last
        steps.append(_step(name, shape, framework, layout, channels_first=len(shape) >= 4,
                           kind="activation", batch_size=batch))
    return steps


def _trace_torch(model: Any, inputs: Sequence[Any], kwargs: dict, layout: str, include_input: bool) -> list[Step]:
    leaves = [(name, module) for name, module in model.named_modules() if not list(module.children())]
    if not leaves:  # a module without sub-modules: its own output only
        leaves = [("output", model)]
    batch = _batch_size(inputs)
    steps: list[Step] = []
    if include_input:
        steps += _input_steps(inputs, "torch", layout, batch)

    def hook_for(name: str) -> Callable:
        def hook(module, args, output):
            kind = type(module).__name__
            for suffix, tensor in _outputs(output):
                shape = _shape_of(tensor)
                steps.append(_step(name + suffix, shape, "torch", layout, _is_spatial(shape, kind), kind, batch))
        return hook

    _run_torch_hooked(model, [(module, hook_for(name)) for name, module in leaves], inputs, kwargs)
    return steps


def _layer_names(model: Any) -> dict[int, str]:
    """Attribute paths of a Keras model's layers (``conv1``, ``blocks.0``), the twins' shared names."""
    import keras

    names: dict[int, str] = {}

    def walk(obj: Any, prefix: str, depth: int) -> None:
        if depth > 6:
            return
        items: Iterable[tuple[str, Any]]
        if isinstance(obj, keras.layers.Layer):
            items = ((k, v) for k, v in vars(obj).items() if not k.startswith("_"))
        elif isinstance(obj, (list, tuple)):
            items = ((str(i), v) for i, v in enumerate(obj))
        elif isinstance(obj, dict):
            items = ((str(k), v) for k, v in obj.items())
        else:
            return
        for key, value in items:
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, keras.layers.Layer):
                names.setdefault(id(value), path)
                walk(value, path, depth + 1)
            elif isinstance(value, (list, tuple, dict)):
                walk(value, path, depth + 1)

    walk(model, "", 0)
    return names


def _trace_keras(model: Any, inputs: Sequence[Any], kwargs: dict, layout: str, include_input: bool) -> list[Step]:
    layers = [layer for layer in model._flatten_layers(include_self=False, recursive=True)
              if not list(layer._flatten_layers(include_self=False, recursive=False))
              and type(layer).__name__ != "InputLayer"]
    names = _layer_names(model)
    batch = _batch_size(inputs)
    steps: list[Step] = []
    if include_input:
        steps += _input_steps(inputs, "tensorflow", layout, batch)

    def record(name: str, kind: str, output: Any) -> None:
        for suffix, tensor in _outputs(output):
            shape = _shape_of(tensor)
            steps.append(_step(name + suffix, shape, "tensorflow", layout, _is_spatial(shape, kind), kind, batch))

    _run_keras_patched(model, [(layer, names.get(id(layer), layer.name), type(layer).__name__) for layer in layers],
                       record, inputs, kwargs)
    return steps


def _accepts_training(model: Any) -> bool:
    import inspect

    try:
        return "training" in inspect.signature(model.call).parameters
    except (TypeError, ValueError):
        return False


def _input_steps(inputs: Sequence[Any], framework: str, layout: str, batch: int | None) -> list[Step]:
    steps = []
    for i, value in enumerate(inputs):
        shape = _shape_of(value)
        if shape is not None:
            name = "input" if len(inputs) == 1 else f"input {i}"
            steps.append(_step(name, shape, framework, layout, len(shape) >= 4, "input", batch))
    return steps


def trace(model: Any, *inputs: Any, layout: str = "channels_last", include_input: bool = True,
          **kwargs: Any) -> list[Step]:
    """Run ``inputs`` through ``model`` once and return the shape of every intermediate tensor.

    ``inputs`` may be tensors of the model's framework or NumPy arrays (converted).
    Keyword arguments go to the model (or to its ``activations``). A twin with an
    ``activations`` method is traced through it; otherwise a PyTorch module through
    forward hooks on its leaf modules and a Keras model through its leaf layers.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    framework = framework_of(model)
    inputs = tuple(_as_input(value, framework) for value in inputs)
    if callable(getattr(model, "activations", None)):
        return _trace_activations(model, inputs, kwargs, framework, layout)
    if framework == "torch":
        import torch

        if isinstance(model, torch.nn.Module):
            return _trace_torch(model, inputs, kwargs, layout, include_input)
    else:
        import keras

        if isinstance(model, keras.Model | keras.layers.Layer):
            return _trace_keras(model, inputs, kwargs, layout, include_input)
    raise TypeError(
        f"cannot trace {type(model).__name__}: give it an activations(*inputs) method, "
        "or pass a torch.nn.Module or a Keras model"
    )


BlockSpec = Mapping[str, str | Sequence[str]]


def _named_part(model: Any, path: str, framework: str) -> Any:
    """The sub-module (PyTorch) or layer (Keras) at attribute path ``path``, e.g. ``layer1`` or ``layer1.0``."""
    if framework == "torch":
        return model.get_submodule(path)
    obj = model
    for part in path.split("."):
        if part.isdigit() and not hasattr(obj, part) and hasattr(obj, "layers"):
            obj = obj.layers[int(part)]  # a Sequential's layer by position, as in PyTorch
        else:
            obj = getattr(obj, part)
    return obj


def trace_blocks(model: Any, *inputs: Any, blocks: BlockSpec | None = None, layout: str = "channels_last",
                 include_input: bool = True, **kwargs: Any) -> list[Step]:
    """Like :func:`trace`, but one step per *block* of named sub-modules instead of one per leaf.

    ``blocks`` maps a block's label to the attribute path(s) of the sub-modules
    (PyTorch) or layers (Keras) it is made of, e.g. ``{"stem": ("conv1", "bn1",
    "relu"), "layer1": "layer1", "fc": "fc"}``; by default every direct child is
    a block named after its attribute. A block's step is the output of the last
    of its parts to run before another block's part runs; sub-modules named in
    no block are not shown. Every block must run at least once.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    framework = framework_of(model)
    inputs = tuple(_as_input(value, framework) for value in inputs)
    parts: list[tuple[str, Any]] = []
    if blocks is None:  # every direct child, by its attribute name
        if framework == "torch":
            parts = list(model.named_children())
        else:
            named = _layer_names(model)
            parts = [(named.get(id(layer), layer.name), layer) for layer in model.layers]
    else:
        for label, paths in blocks.items():
            for path in (paths,) if isinstance(paths, str) else paths:
                parts.append((label, _named_part(model, path, framework)))
    batch = _batch_size(inputs)
    steps: list[Step] = _input_steps(inputs, framework, layout, batch) if include_input else []
    labels_run: list[str] = []

    def record(label: str, kind: str, output: Any) -> None:
        tensors = _outputs(output)
        if not tensors:
            return
        shape = _shape_of(tensors[-1][1])
        step = _step(label, shape, framework, layout, _is_spatial(shape, kind), "block", batch)
        if labels_run and labels_run[-1] == label:  # the block goes on: its latest output stands for it
            steps[-1] = step
        else:
            steps.append(step)
        labels_run.append(label)

    if framework == "torch":
        _run_torch_hooked(model, [(module, lambda module, args, output, label=label: record(
            label, type(module).__name__, output)) for label, module in parts], inputs, kwargs)
    else:
        _run_keras_patched(model, [(layer, label, type(layer).__name__) for label, layer in parts], record,
                           inputs, kwargs)
    missing = [label for label in dict.fromkeys(label for label, _ in parts) if label not in labels_run]
    if missing:
        raise ValueError(f"block(s) {', '.join(missing)} never ran: check their paths")
    return steps


def trace_twins(family: str, class_name: str, *inputs: Any, frameworks: Iterable[str] | None = None,
                layout: str = "channels_last", model_kwargs: Mapping[str, Any] | None = None,
                **call_kwargs: Any) -> dict[str, list[Step]]:
    """Build the twins of ``family`` (declared in :mod:`torchflow.families`) and trace each.

    ``frameworks`` defaults to :func:`torchflow.available_frameworks`; NumPy
    ``inputs`` are converted for each framework. Returns ``{framework: steps}``.
    """
    from torchflow.families import family as declared

    flows = {}
    for framework in _frameworks(frameworks):
        model = declared(family).build(framework, class_name, **dict(model_kwargs or {}))
        flows[framework] = trace(model, *inputs, layout=layout, **call_kwargs)
    return flows


def _frameworks(requested: Iterable[str] | None) -> list[str]:
    """The frameworks to trace, PyTorch first (it must load before TensorFlow)."""
    from torchflow.frameworks import FRAMEWORKS, available_frameworks

    requested = list(requested) if requested is not None else available_frameworks()
    return [name for name in FRAMEWORKS if name in requested]


def trace_image_twins(family: str, class_name: str, image_shape: tuple[int, int, int], *,
                      frameworks: Iterable[str] | None = None, model_kwargs: Mapping[str, Any] | None = None,
                      batch: int = 2, blocks: BlockSpec | None = None) -> dict[str, list[Step]]:
    """:func:`trace_twins` for image models: a blank batch of ``image_shape`` = (H, W, C),
    channels-first for the PyTorch twin and channels-last for the TensorFlow twin.

    With ``blocks`` (see :func:`trace_blocks`) each twin is traced block by block
    instead of leaf by leaf."""
    from torchflow.families import family as declared

    height, width, channels = image_shape
    inputs = {"torch": np.zeros((batch, channels, height, width), np.float32),
              "tensorflow": np.zeros((batch, height, width, channels), np.float32)}
    flows: dict[str, list[Step]] = {}
    for framework in _frameworks(frameworks):
        model = declared(family).build(framework, class_name, **dict(model_kwargs or {}))
        flows[framework] = (trace(model, inputs[framework]) if blocks is None
                            else trace_blocks(model, inputs[framework], blocks=blocks))
    return flows
