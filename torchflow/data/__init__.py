"""Data for the whole book, offline first.

Loaders return framework-free NumPy arrays (or text) together with a
:class:`DatasetInfo` that says where the data really came from; thin wrappers in
:mod:`torchflow.data.wrappers` turn them into a ``torch.utils.data.DataLoader``
or a ``tf.data.Dataset`` over the same items in the same order.
Run ``python -m torchflow.data list`` to see every dataset and its source here.
"""

from torchflow.data.images import IMAGE_DATASETS, ImageSet, load_images, read_idx
from torchflow.data.store import CorruptFileError, DataError, DatasetInfo, data_dir, embedded_dir
from torchflow.data.text import (
    Pairs,
    Surnames,
    TaggedSentences,
    TextCorpus,
    load_dialogue,
    load_fra_eng,
    load_fra_eng_dictionary,
    load_pos,
    load_shakespeare,
    load_surnames,
)
from torchflow.data.vision import (
    Domains,
    TransferSplit,
    load_cifar10,
    load_cyclegan_domains,
    load_transfer_split,
)

__all__ = [
    "IMAGE_DATASETS",
    "CorruptFileError",
    "DataError",
    "DatasetInfo",
    "Domains",
    "ImageSet",
    "Pairs",
    "Surnames",
    "TaggedSentences",
    "TextCorpus",
    "TransferSplit",
    "data_dir",
    "embedded_dir",
    "load_cifar10",
    "load_cyclegan_domains",
    "load_dialogue",
    "load_fra_eng",
    "load_fra_eng_dictionary",
    "load_images",
    "load_pos",
    "load_shakespeare",
    "load_surnames",
    "load_transfer_split",
    "read_idx",
]
