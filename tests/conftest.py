"""Shared test settings: the smoke budget, a quiet TensorFlow, and an isolated data cache for writes."""

import os

os.environ.setdefault("TORCHFLOW_BUDGET", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# PyTorch's Triton must load before TensorFlow (see torchflow.frameworks.load_in_safe_order)
from torchflow.frameworks import load_in_safe_order  # noqa: E402

load_in_safe_order()

# The browser test needs a built site; `nox -s browser` runs it (after `nox -s docs`).
collect_ignore = [] if os.environ.get("TORCHFLOW_SITE") else ["browser"]
