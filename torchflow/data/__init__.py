"""Data for the whole book, offline first.

Loaders return framework-free NumPy arrays (or text) together with a
:class:`DatasetInfo` that says where the data really came from; thin wrappers in
:mod:`torchflow.prep.wrappers` turn them into a ``torch.utils.data.DataLoader``
or a ``tf.data.Dataset`` over the same items in the same order.
Run ``python -m torchflow.data list`` to see every dataset and its source here, and
``python -m torchflow.data plan`` (or :func:`plan`) for the datasets the book's pages use.

``TORCHFLOW_SOURCES`` chooses the sources every loader may use: a comma-separated subset of
``download`` (the canonical data, cached or downloaded), ``package`` (a system package such
as Debian's ``dataset-fashion-mnist``) and ``embedded`` (the small real data in
``data/embedded``); unset means all, tried in that fixed order (a cached copy first).
``TORCHFLOW_OFFLINE=1`` forbids the network. Each loader also takes ``source=`` with the same
values for one call. See :mod:`torchflow.data.store`.
"""

from torchflow.data.catalog import plan
from torchflow.data.dialogue import load_dialogue
from torchflow.data.images import IMAGE_DATASETS, ImageSet, load_domains, load_images, read_idx
from torchflow.data.pairs import Pairs
from torchflow.data.pos import TaggedSentences, load_pos
from torchflow.data.shakespeare import TextCorpus, load_shakespeare
from torchflow.data.store import (
    SOURCE_CHOICES,
    SOURCES_ENV,
    CorruptFileError,
    DataError,
    DatasetInfo,
    Unavailable,
    allowed_sources,
    data_dir,
    embedded_dir,
)
from torchflow.data.surnames import Surnames, load_surnames
from torchflow.data.translation import load_fra_eng, load_fra_eng_dictionary
from torchflow.data.vision import (
    Domains,
    TransferSplit,
    load_cifar10,
    load_cyclegan_domains,
    load_transfer_split,
)

__all__ = [
    "IMAGE_DATASETS",
    "SOURCES_ENV",
    "SOURCE_CHOICES",
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
    "Unavailable",
    "allowed_sources",
    "data_dir",
    "embedded_dir",
    "load_cifar10",
    "load_cyclegan_domains",
    "load_dialogue",
    "load_fra_eng",
    "load_fra_eng_dictionary",
    "load_domains",
    "load_images",
    "load_pos",
    "load_shakespeare",
    "load_surnames",
    "load_transfer_split",
    "plan",
    "read_idx",
]

