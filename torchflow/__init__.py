"""TorchFlow: classic deep-learning models, side by side in PyTorch and TensorFlow 2.

The package's top level imports no deep-learning framework, so that an example
still runs where only one of the two is installed. The twins live in
:mod:`torchflow.pt` (PyTorch) and :mod:`torchflow.tf` (TensorFlow 2), one module
per model family with the same names, arguments and defaults.
"""

import os as _os

# PyTorch and TensorFlow's oneDNN share the OpenMP runtime; unless its thread
# count is set before either starts, PyTorch runs up to 50x slower once
# TensorFlow has executed an op in the same process (measured here: 2.4 ms ->
# 111 ms per VAE step). Pinning it to the cores this process may use avoids that.
if hasattr(_os, "sched_getaffinity"):
    _os.environ.setdefault("OMP_NUM_THREADS", str(len(_os.sched_getaffinity(0))))

from torchflow.budget import BUDGETS, Settings, get_budget, scaled
from torchflow.frameworks import available_frameworks, framework_available, load_in_safe_order, skip_note
from torchflow.run import Run
from torchflow.seed import seed_everything

load_in_safe_order()  # PyTorch and TensorFlow in one process, in any order (see its docstring)

__all__ = [
    "BUDGETS",
    "Run",
    "Settings",
    "available_frameworks",
    "framework_available",
    "get_budget",
    "scaled",
    "seed_everything",
    "skip_note",
]

__version__ = "0.1.0"
