"""Data for the whole book, offline first.

Loaders return framework-free NumPy arrays (or text) together with a
:class:`DatasetInfo` that says where the data really came from; thin wrappers in
:mod:`torchflow.data.wrappers` turn them into a ``torch.utils.data.DataLoader``
or a ``tf.data.Dataset`` over the same items in the same order.
Run ``python -m torchflow.data list`` to see every dataset and its source here.
"""

from torchflow.data.images import IMAGE_DATASETS, ImageSet, load_images, read_idx
from torchflow.data.store import DataError, DatasetInfo, data_dir, embedded_dir

__all__ = [
    "IMAGE_DATASETS",
    "DataError",
    "DatasetInfo",
    "ImageSet",
    "data_dir",
    "embedded_dir",
    "load_images",
    "read_idx",
]
