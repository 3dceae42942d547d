"""Initialisation schemes that give a PyTorch layer the distribution of its Keras twin's defaults.

PyTorch-only on purpose (the Keras twins keep Keras' defaults), so it lives beside
:mod:`torchflow.convert`, not among the twin modules of :mod:`torchflow.pt`.

PyTorch and Keras initialise the same layer differently. A recurrent layer shows
every difference at once:

============  ==========================================  ==========================================
weights       PyTorch ``nn.RNN``/``nn.LSTM``/``nn.GRU``    Keras ``SimpleRNN``/``LSTM``/``GRU``
============  ==========================================  ==========================================
input         U(-1/sqrt(H), 1/sqrt(H))                     Glorot uniform over the (in, gates*H) kernel
recurrent     U(-1/sqrt(H), 1/sqrt(H))                     orthogonal (H, gates*H)
biases        two, U(-1/sqrt(H), 1/sqrt(H)) each           one (GRU: two), zero; LSTM forget gate 1
============  ==========================================  ==========================================

:func:`keras_recurrent_init` makes the PyTorch twin draw from the Keras scheme
(the Keras twin keeps its defaults), so that the twins are one experiment. The
LSTM's and SimpleRNN's second bias (``bias_hh``) is set to zero and frozen:
Keras has one bias there, and two trainable biases whose sum is what the layer
uses would move twice as fast under Adam as Keras' one. The GRU's two biases
exist in both frameworks (Keras ``reset_after=True``) and both train.
:mod:`torchflow.convert` moves the weights between the twins.
"""

from __future__ import annotations

import torch
from torch import nn


def glorot(layer: nn.Module) -> nn.Module:
    """Glorot-uniform weight and zero bias: Keras' ``Dense``/``Conv2D`` defaults."""
    nn.init.xavier_uniform_(layer.weight)
    if getattr(layer, "bias", None) is not None:
        nn.init.zeros_(layer.bias)
    return layer


def keras_recurrent_init(module: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Re-initialise an ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (or cell) as Keras initialises its twin.

    Input kernels Glorot-uniform over all gates together, recurrent kernels
    orthogonal, biases zero with the LSTM's forget-gate bias 1 (Keras
    ``unit_forget_bias=True``); the LSTM's and RNN's ``bias_hh`` zero and frozen.
    """
    kind = type(module).__name__.removesuffix("Cell")
    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}.get(kind)
    if gates is None:
        raise ValueError("keras_recurrent_init expects nn.RNN, nn.LSTM, nn.GRU or their cells, "
                         f"got {type(module).__name__}")
    with torch.no_grad():
        for name, value in module.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(value, generator=generator)  # (gates*H, in): fans in + gates*H, as Keras
            elif name.startswith("weight_hh"):
                nn.init.orthogonal_(value, generator=generator)      # (gates*H, H): orthonormal columns
            elif name.startswith("bias"):
                value.zero_()
                if kind == "LSTM" and name.startswith("bias_ih"):
                    hidden = value.shape[0] // 4
                    value[hidden:2 * hidden] = 1.0                    # the forget gate: order i, f, g, o
                if kind != "GRU" and name.startswith("bias_hh"):
                    value.requires_grad_(False)                       # Keras has one bias here
    return module
