"""The book's one order rule (torchflow/prep/order.py): pass ``epoch`` over ``count`` items is
``default_rng((seed, epoch)).permutation(count)``, and every loop that batches items follows it."""

import numpy as np
import pytest

from torchflow.prep.order import epoch_order
from torchflow.training import batch_indices


def test_the_rule_in_closed_form():
    for seed, epoch in [(0, 0), (3, 2), (41, 7)]:
        np.testing.assert_array_equal(epoch_order(50, seed=seed, epoch=epoch),
                                      np.random.default_rng([seed, epoch]).permutation(50))
    np.testing.assert_array_equal(epoch_order(5, seed=3, epoch=2, shuffle=False), np.arange(5))


def test_seed_and_pass_are_two_words_not_a_sum():
    """With ``seed + epoch``, seed 1's first pass would repeat seed 0's second."""
    assert not np.array_equal(epoch_order(100, seed=1, epoch=0), epoch_order(100, seed=0, epoch=1))
    assert not np.array_equal(epoch_order(100, seed=0, epoch=0), epoch_order(100, seed=0, epoch=1))


def test_batch_indices_cut_each_pass_of_the_rule_into_batches():
    count, size, steps, seed = 23, 5, 11, 4  # 4 full batches a pass (3 items dropped), 3 passes begun
    batches = list(batch_indices(count, size, steps, seed=seed))
    assert len(batches) == steps and all(len(b) == size for b in batches)
    for epoch in range(3):
        expected = epoch_order(count, seed=seed, epoch=epoch)[: 4 * size].reshape(4, size)
        given = np.array(batches[4 * epoch: 4 * epoch + 4])
        np.testing.assert_array_equal(given, expected[: len(given)])


def test_the_framework_loaders_follow_the_same_rule_as_batch_indices():
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    from torchflow.prep.wrappers import tf_dataset, torch_loader

    items, expected = np.arange(23), np.array(list(batch_indices(23, 5, 8, seed=4)))
    loader = torch_loader(items, batch_size=5, seed=4, drop_last=True)
    passes = [batch.numpy() for _ in range(2) for (batch,) in loader]  # each pass over it is the next epoch
    np.testing.assert_array_equal(np.array(passes), expected)
    tf_passes = [batch.numpy() for epoch in range(2)
                 for batch in tf_dataset(items, batch_size=5, seed=4, epoch=epoch, drop_last=True)]
    np.testing.assert_array_equal(np.array(tf_passes), expected)


def test_a_negative_count_or_pass_is_refused():
    with pytest.raises(ValueError, match=">= 0"):
        epoch_order(-1, seed=0, epoch=0)
    with pytest.raises(ValueError, match=">= 0"):
        epoch_order(3, seed=0, epoch=-1)
