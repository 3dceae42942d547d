"""What the closed-form loss tests share: each twin alone, its module, tensors in and NumPy out.

The tests in ``tests/test_losses_*.py`` hold every twin to a formula computed in NumPy, never to the
other twin, so a mistake made in both twins fails them (see ``tools/mutants/``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

FRAMEWORKS = ("torch", "tensorflow")


def twin_module(framework: str, family: str) -> ModuleType:
    """``torchflow.pt.<family>`` or ``torchflow.tf.<family>``."""
    return importlib.import_module(f"torchflow.{'pt' if framework == 'torch' else 'tf'}.{family}")


def tensor(framework: str, array):
    """``array`` as the framework's tensor."""
    if framework == "torch":
        import torch

        return torch.as_tensor(array)
    import tensorflow as tf

    return tf.constant(array)


def as_numpy(value) -> np.ndarray:
    """A PyTorch or TensorFlow tensor (or anything array-like) as a NumPy array."""
    return value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)
