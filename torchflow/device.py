"""Device selection for both frameworks, from one setting.

``TORCHFLOW_DEVICE`` is ``auto`` (default: the first GPU when there is one, else
the CPU), ``cpu``, ``cuda`` or ``cuda:N``.
"""

from __future__ import annotations

import re

from torchflow.config import ConfigError, raw

DEVICE_ENV = "TORCHFLOW_DEVICE"
_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


class DeviceError(ConfigError):
    """An unknown or unavailable device."""


def requested_device(name: str | None = None) -> str:
    """Validate and return the requested device name (``auto``, ``cpu``, ``cuda[:N]``)."""
    value = (name.strip().lower() if name is not None else raw(DEVICE_ENV)) or "auto"  # empty: the default
    if not _PATTERN.match(value):
        raise DeviceError(
            f"unknown device {value!r}; use auto, cpu, cuda or cuda:N "
            f"(set ${DEVICE_ENV} or pass device=...)"
        )
    return value


def torch_device(name: str | None = None):
    """The ``torch.device`` to train on."""
    import torch

    value = requested_device(name)
    if value == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if value.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(
            f"device {value!r} was requested but PyTorch sees no CUDA GPU here; "
            f"use {DEVICE_ENV}=cpu (or auto)"
        )
    if ":" in value and int(value.split(":")[1]) >= torch.cuda.device_count():
        raise DeviceError(
            f"device {value!r} was requested but PyTorch sees {torch.cuda.device_count()} GPU(s) here; "
            f"use {DEVICE_ENV}=cuda:0 (or auto)"
        )
    return torch.device(value)


def tf_device(name: str | None = None) -> str:
    """The TensorFlow device string (``/CPU:0`` or ``/GPU:N``) to train on."""
    import tensorflow as tf

    value = requested_device(name)
    gpus = tf.config.list_logical_devices("GPU")
    if value == "auto":
        return "/GPU:0" if gpus else "/CPU:0"
    if value == "cpu":
        return "/CPU:0"
    index = int(value.split(":")[1]) if ":" in value else 0
    if index >= len(gpus):
        raise DeviceError(
            f"device {value!r} was requested but TensorFlow sees {len(gpus)} GPU(s) here; "
            f"use {DEVICE_ENV}=cpu (or auto)"
        )
    return f"/GPU:{index}"
