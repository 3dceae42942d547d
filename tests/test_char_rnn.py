"""The char-RNN page's pieces: bits per character with its noise, the n-gram scored by rows, truncated BPTT."""

from __future__ import annotations

import numpy as np
import pytest

from torchflow.baselines import CharNgram
from torchflow.metrics import bits_per_char
from torchflow.prep.characters import text_streams


def test_bits_per_char_is_the_mean_cost_and_its_error_is_over_rows():
    bits = np.array([[1.0, 3.0], [2.0, 2.0], [4.0, 4.0]])  # row means 2, 2, 4
    mean, error = bits_per_char(bits)
    assert mean == pytest.approx(8 / 3)
    assert error == pytest.approx(np.std([2.0, 2.0, 4.0], ddof=1) / np.sqrt(3))
    assert bits_per_char(np.full((4, 7), np.log2(65)))[0] == pytest.approx(6.0223678)  # a uniform guess
    assert bits_per_char(np.full((4, 7), 2.0))[1] == 0.0
    for bad in (np.ones(5), np.ones((1, 5)), np.array([[1.0, np.inf], [1.0, 1.0]])):
        with pytest.raises(ValueError):
            bits_per_char(bad)


def test_nats_become_bits_by_dividing_by_ln_2():
    nats = np.full((3, 4), np.log(8.0))  # p = 1/8 at every step: 3 bits
    assert bits_per_char(nats / np.log(2))[0] == pytest.approx(3.0)


def test_an_ngram_scored_row_by_row_sees_each_row_from_its_start():
    text = np.array([0, 1, 2] * 40)
    model = CharNgram().fit(text, vocab_size=3, order=3)
    rows = text_streams(text, 4)  # 4 rows of 30, each a fresh start
    bits = np.stack([-model.log2_probabilities(row)[1:] for row in rows])
    mean, _ = bits_per_char(bits)
    assert bits.shape == (4, 29)
    assert mean < 0.2  # a deterministic pattern costs almost nothing once two characters are known
    # the first target of a row has only one character of context: it costs more than the later ones
    assert (bits[:, 0] > bits[:, 5]).all()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_detach_state_cuts_the_graph_of_every_cell(cell):
    torch = pytest.importorskip("torch")
    from torchflow.pt.rnn import CharRNN, detach_state

    model = CharRNN(vocab_size=5, embedding_dim=3, hidden_dim=4, cell=cell)
    _, state = model(torch.zeros(2, 3, dtype=torch.int64))
    cut = detach_state(state)
    parts = cut if isinstance(cut, tuple) else (cut,)
    originals = state if isinstance(state, tuple) else (state,)
    assert all(p.grad_fn is None and not p.requires_grad for p in parts)
    assert all(torch.equal(p, o) for p, o in zip(parts, originals))
    # carried into the next batch, the loss's gradient reaches the weights but not the previous batch
    logits, _ = model(torch.ones(2, 3, dtype=torch.int64), cut)
    logits.sum().backward()
    assert model.fc.weight.grad is not None
