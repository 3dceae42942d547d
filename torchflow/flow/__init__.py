"""Dimension-flow figures, traced from the models themselves.

A page's dimension flow is not drawn by hand: :func:`trace` runs a small batch
through a model and records the shape of every intermediate tensor, and
:func:`draw_flow` draws the block diagram. Tracing both twins and checking with
:func:`compare_flows` that the shapes agree shows that they have the same
structure.

What can be traced (explicit-weight twins, PyTorch modules, Keras models; leaf by leaf or
block by block) is described in :mod:`torchflow.flow.trace`.

Both twins are reported in one layout (channels-last by default), so that their shapes compare.

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
