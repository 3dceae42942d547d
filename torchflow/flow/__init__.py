"""Dimension-flow figures, traced from the models themselves.

A page's dimension flow is not drawn by hand: :func:`trace` runs a small batch
through a model and records the shape of every intermediate tensor, and
:func:`draw_flow` draws the block diagram. Tracing both twins and checking with
:func:`compare_flows` that the shapes agree shows that they have the same
structure.

Three kinds of model can be traced:

- the explicit-weight twins (VAE, GAN, ...), which expose
  ``activations(*inputs) -> {name: tensor}``, in order;
- a PyTorch ``nn.Module``: a forward hook on every leaf module (a module called
  twice, like a shared pooling layer, appears twice);
- a Keras model: every leaf layer's output during one eager call.

A deep network traces to too many steps for a readable figure; :func:`trace_blocks`
records only the outputs of named sub-modules (or Keras layers), grouped into
blocks such as ``stem``, ``layer1``, ..., ``fc``.

Shapes are compared in one layout. PyTorch's image tensors are channels-first
(``(B, C, H, W)``), TensorFlow's channels-last (``(B, H, W, C)``); by default
the PyTorch shapes of convolutional tensors are reported channels-last too
(``layout="channels_last"``), ``layout="channels_first"`` does the opposite and
``layout="native"`` leaves each framework's own.

The package has three rooms: :mod:`~torchflow.flow.trace` (running a model
and recording shapes), :mod:`~torchflow.flow.compare` (checking that twins
agree) and :mod:`~torchflow.flow.draw` (the figure). None imports a framework
at import time.
"""

from torchflow.flow.compare import FlowMismatch, compare_flows
from torchflow.flow.draw import draw_flow, draw_flows
from torchflow.flow.trace import (
    BATCH,
    LAYOUTS,
    BlockSpec,
    Step,
    framework_of,
    trace,
    trace_blocks,
    trace_image_twins,
    trace_twins,
)

__all__ = [
    "BATCH",
    "LAYOUTS",
    "BlockSpec",
    "FlowMismatch",
    "Step",
    "compare_flows",
    "draw_flow",
    "draw_flows",
    "framework_of",
    "trace",
    "trace_blocks",
    "trace_image_twins",
    "trace_twins",
]
