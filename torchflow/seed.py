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

    What repeats: on the CPU, a run seeded here gives the same numbers in every process with
    the same thread counts (``OMP_NUM_THREADS``, ``TF_NUM_INTRAOP_THREADS``); another thread
    count sums in another order and gives other float32 roundings. TensorFlow's
    ``tf.config.experimental.enable_op_determinism()`` is *not* called: on the CPU it changed
    no weight of a 100-step CycleGAN run and cost about 10 % of its time
    (``studies/gan/cyclegan-recipe/tf_determinism.py``). What broke repeatability was a Keras initializer
    made at import time, seeded before this function runs: make initializers inside the
    layers' constructors (see :func:`torchflow.tf.dcgan.normal_weights`).
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
