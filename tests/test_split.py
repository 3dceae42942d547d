"""The one rule for holding data out (torchflow.prep.split), against an independent oracle."""

import numpy as np
import pytest

from torchflow.prep.split import split


def test_parts_are_cut_from_the_front_of_one_seeded_permutation_in_the_order_named():
    order = np.random.default_rng(3).permutation(100)  # the oracle: the rule written out
    parts = split(100, validation=20, test=10, seed=3)
    assert list(parts) == ["train", "validation", "test"]
    assert parts.validation.tolist() == sorted(order[:20].tolist())
    assert parts.test.tolist() == sorted(order[20:30].tolist())
    assert parts.train.tolist() == sorted(order[30:].tolist())
    assert parts["test"] is parts.test


def test_the_parts_partition_the_items_and_depend_on_the_seed_only():
    parts = split(57, test=7, validation=5, seed=1)
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(57))
    assert split(57, test=7, validation=5, seed=1).test.tolist() == parts.test.tolist()
    assert split(57, test=7, validation=5, seed=2).test.tolist() != parts.test.tolist()
    # the order the parts are named in decides which comes first
    swapped = split(57, validation=5, test=7, seed=1)
    assert swapped.validation.tolist() != parts.validation.tolist()


@pytest.mark.parametrize("sizes, message", [
    ({"validation": 5, "test": 5}, "leave nothing"),
    ({}, "at least 1"),
    ({"test": 0}, "at least 1"),
    ({"train": 3}, "what is left"),
])
def test_bad_sizes_are_errors(sizes, message):
    with pytest.raises(ValueError, match=message):
        split(10, **sizes)


def test_an_unknown_part_names_the_parts():
    with pytest.raises(AttributeError, match="the parts are train, test"):
        _ = split(10, test=2).validation
