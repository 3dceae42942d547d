"""The char-RNN's character streams are contiguous text: row b of batch k+1 continues row b of batch k,
and every row is a stretch of the corpus as written (an interleaving of the text into the rows, or rows
dealt round-robin, would still give arrays of the right shape and pass a shape check)."""

import numpy as np

from torchflow.data.shakespeare import load_shakespeare
from torchflow.prep.characters import Alphabet, text_streams

SEQ_LEN, STREAMS = 25, 8


def test_streams_of_real_text_are_slices_of_the_corpus_in_order():
    text = load_shakespeare(source="embedded").text[:20_000]
    alphabet = Alphabet.of(text)
    rows = text_streams(alphabet.encode(text), STREAMS)
    per_stream = len(text) // STREAMS
    for b, row in enumerate(rows):
        assert alphabet.decode(row) == text[b * per_stream : (b + 1) * per_stream]


def test_consecutive_windows_continue_each_row():
    """The page's batches: inputs rows[:, 25k : 25k + 25], targets shifted by one. Glued back together over a
    pass, each row's windows are its stream; each window's targets are its inputs one character on."""
    ids = np.arange(4_003)
    rows = text_streams(ids, STREAMS)
    per_pass = (rows.shape[1] - 1) // SEQ_LEN
    inputs = [rows[:, k * SEQ_LEN : (k + 1) * SEQ_LEN] for k in range(per_pass)]
    targets = [rows[:, k * SEQ_LEN + 1 : (k + 1) * SEQ_LEN + 1] for k in range(per_pass)]
    glued = np.concatenate(inputs, axis=1)
    for b in range(STREAMS):
        start = b * (len(ids) // STREAMS)
        np.testing.assert_array_equal(glued[b], ids[start : start + per_pass * SEQ_LEN])
        for k in range(per_pass - 1):
            assert inputs[k + 1][b, 0] == inputs[k][b, -1] + 1  # the next batch picks up where this one ended
            np.testing.assert_array_equal(targets[k][b], inputs[k][b] + 1)
