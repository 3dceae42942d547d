"""PyTorch's tutorial ``data.zip``: one download that two datasets are read from.

It holds ``data/names/<Language>.txt`` (the surnames, :mod:`torchflow.data.surnames`) and
``data/eng-fra.txt`` (Tatoeba's French-English pairs, :mod:`torchflow.data.translation`); both
loaders fetch this one file, so it is declared here once and neither borrows it from the other.
"""

from __future__ import annotations

from torchflow.data import archives
from torchflow.data.filestore import Download

PYTORCH_TUTORIAL_ZIP = "https://download.pytorch.org/tutorial/data.zip"
TUTORIAL_DOWNLOAD = Download(
    PYTORCH_TUTORIAL_ZIP,
    "pytorch-tutorial/data.zip",
    validate=archives.zip_validator("data/names/English.txt", "data/eng-fra.txt"),
    unpinned="PyTorch publishes no checksum for its tutorial data.zip",
)
