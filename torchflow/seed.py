"""Seeding: one call makes Python, NumPy, PyTorch and TensorFlow reproducible."""

from __future__ import annotations

import os
import random
import sys

import numpy as np


def seed_everything(seed: int = 0) -> None:
    """Seed ``random``, NumPy, and whichever of PyTorch / TensorFlow is imported.

    Only frameworks already imported are touched, so seeding never drags in a
    framework an example does not use.
    """
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if sys.modules.get("torch") is not None:
        import torch

        torch.manual_seed(seed)
    if sys.modules.get("tensorflow") is not None:
        import keras

        keras.utils.set_random_seed(seed)
