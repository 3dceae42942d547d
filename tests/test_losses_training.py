"""What training is fed, against hand-written answers: shifted targets, contiguous text streams, batches that
cover the data, the step clock, the sampled-softmax noise distribution, the word windows.

Framework-free (NumPy only), so the mutation check (``tools/mutants/training.toml`` and others) runs it in
about a second per mutant.
"""

import numpy as np
import pytest

from torchflow.prep.characters import PAD, Alphabet, name_targets, pad, text_streams
from torchflow.prep.words import cbow_examples, ngram_examples, skipgram_examples
from torchflow.training import StepClock, batch_indices, log_uniform_negatives, log_uniform_probability


def test_name_targets_are_the_next_letters():
    alphabet = Alphabet("Hinot", end=True)
    padded, lengths = pad([alphabet.encode("Hinton"), alphabet.encode("to")])
    targets = name_targets(padded, lengths, alphabet.end_index)
    end = alphabet.end_index
    assert targets[0].tolist() == [*alphabet.encode("inton"), end]
    assert targets[1].tolist() == [*alphabet.encode("o"), end, PAD, PAD, PAD, PAD]


def test_text_streams_are_contiguous():
    """Row b is the b-th contiguous slice, so batch k+1's row b continues batch k's row b."""
    rows = text_streams(np.arange(23), 4)
    assert rows.tolist() == [list(range(0, 5)), list(range(5, 10)), list(range(10, 15)), list(range(15, 20))]
    first, second = rows[:, 0:3], rows[:, 3:5]
    assert all(second[b, 0] == first[b, -1] + 1 for b in range(4))


def test_batch_indices_cover_each_pass_once_and_reshuffle():
    count, size = 13, 3  # four full batches a pass, one item left out of each pass
    batches = list(batch_indices(count, size, steps=12, seed=1))
    assert len(batches) == 12 and all(len(b) == size for b in batches)
    passes = [np.concatenate(batches[i : i + 4]) for i in range(0, 12, 4)]
    for items in passes:
        assert len(set(items.tolist())) == 12 and set(items.tolist()) <= set(range(count))
    assert not np.array_equal(passes[0], passes[1]) and not np.array_equal(passes[1], passes[2])


def test_step_clock_leaves_out_the_first_step():
    ticks = iter([0.0, 10.0, 10.0, 12.0, 12.0, 16.0, 20.0, 21.0])  # steps of 10, 2, 4 and 1 seconds
    clock = StepClock(timer=lambda: next(ticks))
    for _ in range(4):
        with clock:
            pass
    assert clock.steps == 4 and clock.first_step == 10.0
    assert clock.seconds_per_step == pytest.approx((2 + 4 + 1) / 3)
    assert clock.total_seconds == pytest.approx(17.0)


def test_log_uniform_noise_is_a_distribution_and_is_what_is_drawn():
    vocab = 50
    q = log_uniform_probability(np.arange(vocab), vocab)
    assert q.sum() == pytest.approx(1.0, abs=1e-12)  # telescoping: log(V + 1) / log(V + 1)
    assert q[0] == pytest.approx(np.log(2) / np.log(vocab + 1))
    ids, expected = log_uniform_negatives(200_000, vocab, np.random.default_rng(0), dtype="float64")
    frequencies = np.bincount(ids, minlength=vocab) / len(ids)
    np.testing.assert_allclose(frequencies[:5], q[:5], rtol=0.03)
    np.testing.assert_allclose(expected[:10], 200_000 * q[ids[:10]])


def test_word_windows_by_hand():
    ids = np.array([10, 11, 12, 13, 14])
    contexts, targets = ngram_examples(ids, 2)
    assert contexts.tolist() == [[10, 11], [11, 12], [12, 13]] and targets.tolist() == [12, 13, 14]
    contexts, targets = cbow_examples(ids, 2)
    assert contexts.tolist() == [[10, 11, 13, 14]] and targets.tolist() == [12]
    centers, neighbours = skipgram_examples(ids, 2)
    pairs = sorted(zip(centers.tolist(), neighbours.tolist()))
    assert pairs == sorted((c, n) for i, c in enumerate(ids.tolist()) for j, n in enumerate(ids.tolist())
                           if 0 < abs(i - j) <= 2)
