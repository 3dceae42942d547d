"""What the families share: Keras-like initialisation, batch norm, explicit weights, checks -- the PyTorch twin.

Every family module of :mod:`torchflow.pt` imports PyTorch and this module, and no other
family (``tests/test_module_imports.py`` keeps it so); :mod:`torchflow.tf.layers` holds the
TensorFlow side under the same names.

PyTorch and Keras initialise the same layer differently, so the twins declare their
scheme instead of keeping either default:

==============  =============================================  ==============================================
layer           PyTorch default                                Keras default: the book's scheme, both twins
==============  =============================================  ==============================================
dense, conv     kaiming-uniform (a = sqrt(5)), uniform biases  Glorot uniform, zero biases (:func:`glorot`)
embedding       N(0, 1)                                        U(-0.05, 0.05); the embedding families draw
                                                               U(-1, 1) (:func:`embedding`)
recurrent       U(-1/sqrt(H), 1/sqrt(H)) for every weight      Glorot uniform over the (in, gates*H) input
                and for both biases                            kernel, orthogonal (H, gates*H) recurrent
                                                               kernel, one zero bias (GRU: two), LSTM forget
                                                               bias 1 (:func:`keras_recurrent_init`)
batch norm      momentum 0.1 (the new batch's weight), eps     momentum 0.99 (the old estimate's weight), eps
                1e-5, running variance unbiased                1e-3, moving variance biased; the book uses
                                                               PyTorch's (:func:`BatchNorm`)
==============  =============================================  ==============================================

:func:`keras_recurrent_init` makes the PyTorch twin draw from the Keras scheme (the Keras
twin keeps its defaults), so that the twins are one experiment. The LSTM's and SimpleRNN's
second bias (``bias_hh``) is set to zero and frozen: Keras has one bias there, and two
trainable biases whose sum is what the layer uses would move twice as fast under Adam as
Keras' one. The GRU's two biases exist in both frameworks (Keras ``reset_after=True``) and
both train. :mod:`torchflow.convert` moves the weights between the twins.

Batch norm follows PyTorch in both twins (:func:`BatchNorm`): ``momentum=0.1`` here is Keras'
``momentum=0.9``, epsilon 1e-5 in both, and the running variance is updated with the unbiased
batch variance (n / (n - 1) times the biased one that normalises the batch, n values a
channel), which PyTorch does itself and the Keras twin's ``BatchNorm`` does by hand.

:func:`normal_weights` is the DCGAN paper's N(0, 0.02) (CycleGAN's too). Explicit-weight
models (VAE, GAN) keep a dictionary ``weights`` of named leaf tensors and inherit
:class:`ExplicitWeights`. :func:`check_positive` is the argument check of every family.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

EMBEDDING_INIT = 1.0  # embedding rows U(-EMBEDDING_INIT, EMBEDDING_INIT)
NORMAL_STD = 0.02  # the DCGAN paper's N(0, 0.02)


def check_positive(**sizes: int) -> None:
    """Raise ``ValueError`` naming every size below 1 (``check_positive(hidden_dim=0)``)."""
    small = {name: size for name, size in sizes.items() if size < 1}
    if small:
        raise ValueError("sizes must be positive (>= 1): " + ", ".join(f"{k}={v}" for k, v in small.items()))


def glorot(layer: nn.Module) -> nn.Module:
    """Glorot-uniform weight and zero bias: Keras' ``Dense``/``Conv2D`` defaults (re-initialises ``layer``)."""
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


def normal_weights(module: nn.Module) -> None:
    """N(0, 0.02) convolution weights and zero biases; batch norm scale N(1, 0.02), shift 0.

    The DCGAN paper's initialisation (CycleGAN's too), for ``model.apply(normal_weights)``.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, NORMAL_STD)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, NORMAL_STD)
        nn.init.zeros_(module.bias)


def BatchNorm(channels: int, momentum: float = 0.1, epsilon: float = 1e-5) -> nn.BatchNorm2d:
    """PyTorch's batch norm over (B, C, H, W) maps with the book's convention (Keras twin: ``momentum=0.9``).

    ``momentum`` weights the new batch in the running statistics (Keras' weights the old
    estimate: 0.1 here is 0.9 there); the running variance is the unbiased batch variance.
    """
    check_positive(channels=channels)
    return nn.BatchNorm2d(channels, momentum=momentum, eps=epsilon)


def embedding(vocab_size: int, embedding_dim: int) -> nn.Embedding:
    """An embedding table with rows drawn U(-1, 1) (the notes'; see the module docstring)."""
    if vocab_size < 1 or embedding_dim < 1:
        raise ValueError(f"vocab_size and embedding_dim must be >= 1, got {vocab_size} and {embedding_dim}")
    table = nn.Embedding(vocab_size, embedding_dim)
    nn.init.uniform_(table.weight, -EMBEDDING_INIT, EMBEDDING_INIT)
    return table


class ExplicitWeights:
    """Weights as a dictionary ``self.weights`` of named leaf tensors: the explicit-weight families' handling.

    A subclass fills ``self.weights`` (``{"encoder_hidden_w": tensor, ...}``); the names are the
    same in both twins, so that :func:`torchflow.convert.copy_weights` moves them by name.
    """

    weights: dict[str, torch.Tensor]

    def parameters(self) -> list[torch.Tensor]:
        """Every weight, in declaration order: the explicit list an optimiser may change."""
        return list(self.weights.values())

    def to(self, device) -> ExplicitWeights:
        """Move every weight to ``device`` (as new leaf tensors: build the optimiser afterwards)."""
        for name, weight in self.weights.items():
            self.weights[name] = weight.detach().to(device).requires_grad_()
        return self

    def get_weights(self) -> dict[str, np.ndarray]:
        """A copy of every weight as a NumPy array, by name."""
        return {name: weight.detach().cpu().numpy().copy() for name, weight in self.weights.items()}

    def set_weights(self, values: dict[str, np.ndarray]) -> None:
        """Overwrite every weight in place from arrays of the same names and shapes."""
        for name, weight in self.weights.items():
            if tuple(values[name].shape) != tuple(weight.shape):
                raise ValueError(f"{name}: expected shape {tuple(weight.shape)}, got {values[name].shape}")
            with torch.no_grad():
                weight.copy_(torch.as_tensor(values[name]))
