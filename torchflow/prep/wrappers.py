"""Framework wrappers over the same arrays: the same items, in the same order, for a seed.

The order of an epoch is the book's one rule, :func:`torchflow.prep.order.epoch_order`
(the one :func:`torchflow.training.batch_indices` follows): the PyTorch ``DataLoader`` and the
``tf.data.Dataset`` both follow it, so the two twins see identical batches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from torchflow.prep.order import epoch_order


def _check(arrays: Sequence[np.ndarray]) -> int:
    if not arrays:
        raise ValueError("give at least one array")
    count = len(arrays[0])
    if any(len(a) != count for a in arrays):
        raise ValueError(f"arrays differ in length: {[len(a) for a in arrays]}")
    return count


class _SeededOrder:
    """A torch Sampler-like iterable whose order advances by one epoch each pass."""

    def __init__(self, count: int, shuffle: bool, seed: int) -> None:
        self.count, self.shuffle, self.seed, self.epoch = count, shuffle, seed, 0

    def __iter__(self):
        order = epoch_order(self.count, shuffle=self.shuffle, seed=self.seed, epoch=self.epoch)
        self.epoch += 1
        return iter(order.tolist())

    def __len__(self) -> int:
        return self.count


def torch_loader(*arrays: np.ndarray, batch_size: int, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False):
    """A ``DataLoader`` of tensors over ``arrays``; each pass over it is the next epoch."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    count = _check(arrays)
    dataset = TensorDataset(*(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays))
    return DataLoader(dataset, batch_size=batch_size, sampler=_SeededOrder(count, shuffle, seed),
                      drop_last=drop_last)


def tf_dataset(*arrays: np.ndarray, batch_size: int, shuffle: bool = True, seed: int = 0,
               epoch: int = 0, drop_last: bool = False):
    """A ``tf.data.Dataset`` over ``arrays`` for one epoch, in the same order as :func:`torch_loader`."""
    import tensorflow as tf

    count = _check(arrays)
    order = epoch_order(count, shuffle=shuffle, seed=seed, epoch=epoch)
    items = tuple(np.ascontiguousarray(a[order]) for a in arrays)
    dataset = tf.data.Dataset.from_tensor_slices(items if len(items) > 1 else items[0])
    return dataset.batch(batch_size, drop_remainder=drop_last).prefetch(tf.data.AUTOTUNE)
