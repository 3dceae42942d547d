"""Characters as numbers: the alphabets, padded batches and text streams of the RNN chapter.

A name or a text becomes a sequence of character indices. Names have different
lengths, so a batch of names is padded to its longest with ``PAD`` (-1), and
each name's length is kept: a one-hot row of ``PAD`` is all zeros, and a target
of ``PAD`` adds nothing to a loss.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

PAD = -1


@dataclass(frozen=True)
class Alphabet:
    """The characters a model reads, in a fixed order; with ``end=True`` one more index marks the end of a name."""

    characters: str
    end: bool = False

    @classmethod
    def of(cls, texts: Iterable[str], end: bool = False) -> Alphabet:
        """The sorted set of characters of ``texts``."""
        return cls("".join(sorted(set("".join(texts)))), end)

    def __post_init__(self) -> None:
        if not self.characters or len(set(self.characters)) != len(self.characters):
            raise ValueError("an alphabet needs at least one character, each once")

    def __len__(self) -> int:
        return len(self.characters) + self.end

    @property
    def end_index(self) -> int:
        if not self.end:
            raise ValueError("this alphabet has no end-of-name index (build it with end=True)")
        return len(self.characters)

    def encode(self, text: str) -> np.ndarray:
        """Indices (int64) of the characters of ``text``; an unknown character is an error."""
        index = {c: i for i, c in enumerate(self.characters)}
        unknown = sorted(set(text) - set(index))
        if unknown:
            raise ValueError(f"characters {unknown!r} are not in the alphabet")
        return np.array([index[c] for c in text], dtype=np.int64)

    def decode(self, indices: Iterable[int]) -> str:
        """The text of ``indices``, stopping at the end-of-name index."""
        out = []
        for i in indices:
            if self.end and i == self.end_index:
                break
            out.append(self.characters[i])
        return "".join(out)


def one_hot(indices: np.ndarray, size: int, dtype=np.float32) -> np.ndarray:
    """(..., ) indices -> (..., size) one-hot rows; ``PAD`` gives a row of zeros."""
    indices = np.asarray(indices)
    if indices.size and (indices.max() >= size or indices.min() < PAD):
        raise ValueError(f"indices must lie in [{PAD}, {size}), got [{indices.min()}, {indices.max()}]")
    out = np.zeros((*indices.shape, size), dtype=dtype)
    real = indices >= 0
    out[real, indices[real]] = 1
    return out


def pad(sequences: Sequence[np.ndarray], length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Index sequences -> (padded (N, T) int64 with ``PAD`` after each end, lengths (N,) int64)."""
    if not sequences:
        raise ValueError("pad needs at least one sequence")
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    if lengths.min() < 1:
        raise ValueError("every sequence needs at least one step")
    length = int(lengths.max()) if length is None else length
    if length < lengths.max():
        raise ValueError(f"length {length} is shorter than the longest sequence ({lengths.max()})")
    padded = np.full((len(sequences), length), PAD, dtype=np.int64)
    for row, sequence in zip(padded, sequences, strict=True):
        row[: len(sequence)] = sequence
    return padded, lengths


def name_targets(padded: np.ndarray, lengths: np.ndarray, end_index: int) -> np.ndarray:
    """Next-letter targets of padded names: each name shifted left by one, its end marked by ``end_index``.

    ``Hinton`` reads ``H i n t o n`` and must predict ``i n t o n <end>``.
    """
    targets = np.full_like(padded, PAD)
    targets[:, :-1] = padded[:, 1:]
    targets[np.arange(len(padded)), lengths - 1] = end_index
    return targets


def text_streams(indices: np.ndarray, streams: int) -> np.ndarray:
    """A long index sequence cut into ``streams`` contiguous rows (streams, N) (the tail that does not fit is dropped).

    Batch ``k`` of a char-RNN is then ``rows[:, k*T:(k+1)*T]``: row ``b`` of batch ``k+1`` continues row ``b``
    of batch ``k``, which is what lets the hidden state be carried from one batch to the next.
    """
    if streams < 1 or len(indices) < 2 * streams:
        raise ValueError(f"cannot cut {len(indices)} characters into {streams} streams")
    per_stream = len(indices) // streams
    return np.asarray(indices[: per_stream * streams]).reshape(streams, per_stream)


def one_hot_batch(padded: np.ndarray, lengths: np.ndarray, index: np.ndarray, size: int,
                  dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """The items ``index`` of padded sequences, cut to their longest: (one-hot (B, T, size), lengths (B,))."""
    index = np.asarray(index)
    width = int(lengths[index].max())
    return one_hot(padded[index, :width], size, dtype), lengths[index]
