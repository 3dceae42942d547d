"""Sentence pairs as integer batches for the seq2seq chapter: normalisation, vocabularies, padding.

The steps of the PyTorch translation tutorial: strip accents,
lowercase, keep letters and ``. ! ?``; keep the pairs whose sentences both have fewer than
``max_words`` words; drop the pairs that contain a word seen fewer than ``min_count``
times; number the words of each language. Index 0 is padding, 1 the start of a
sentence, 2 its end (the tutorial uses SOS 0, EOS 1 and no padding, since it trains one
pair at a time).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

PAD, SOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<sos>", "<eos>")
COMBINING_MARKS = re.compile(r"[\u0300-\u036f]")  # the accents that NFD splits off Latin letters


def normalize(text: str) -> str:
    """``"Ça va ?"`` -> ``"ca va ?"``: ASCII letters, lowercase, ``.!?`` kept as words, the rest spaces."""
    text = COMBINING_MARKS.sub("", unicodedata.normalize("NFD", text.lower().strip()))  # é -> e + ´ -> e
    text = re.sub(r"([.!?])", r" \1", text)
    return " ".join(re.sub(r"[^a-zA-Z.!?]+", " ", text).split())


@dataclass
class Vocabulary:
    """Words numbered from 3 (after ``<pad>``, ``<sos>``, ``<eos>``), most frequent first."""

    words: list[str]
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if tuple(self.words[:3]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}, got {self.words[:3]}")
        self.index = {word: i for i, word in enumerate(self.words)}

    @classmethod
    def build(cls, sentences: Iterable[str]) -> Vocabulary:
        counts = Counter(word for sentence in sentences for word in sentence.split())
        return cls([*SPECIALS, *sorted(counts, key=lambda w: (-counts[w], w))])

    def __len__(self) -> int:
        return len(self.words)

    @property
    def fingerprint(self) -> str:
        """A short hash of the word list: two vocabularies number words alike iff it matches."""
        return hashlib.sha256("\n".join(self.words).encode()).hexdigest()[:16]

    def encode(self, sentence: str) -> list[int]:
        """Word numbers of ``sentence``, then EOS; an unknown word is an error naming it."""
        try:
            return [self.index[word] for word in sentence.split()] + [EOS]
        except KeyError as error:
            raise ValueError(f"{error.args[0]!r} is not in the vocabulary ({len(self)} words)") from None

    def decode(self, tokens: Sequence[int]) -> str:
        """The words of ``tokens`` up to the first EOS (padding and SOS skipped)."""
        words = []
        for token in tokens:
            if int(token) == EOS:
                break
            if int(token) > EOS:
                words.append(self.words[int(token)])
        return " ".join(words)


def prepare_pairs(pairs: Iterable[tuple[str, str]], *, max_words: int = 10,
                  min_count: int = 3) -> tuple[list[tuple[str, str]], Vocabulary, Vocabulary]:
    """Normalised pairs with fewer than ``max_words`` words on each side, without the pairs holding a
    word seen fewer than ``min_count`` times; and the two vocabularies of what is left."""
    if max_words < 2 or min_count < 1:
        raise ValueError(f"max_words must be >= 2 and min_count >= 1, got {max_words} and {min_count}")
    short = [(a, b) for a, b in ((normalize(a), normalize(b)) for a, b in pairs)
             if 0 < len(a.split()) < max_words and 0 < len(b.split()) < max_words]
    source_counts = Counter(w for a, _ in short for w in a.split())
    target_counts = Counter(w for _, b in short for w in b.split())
    kept = [(a, b) for a, b in short if min(source_counts[w] for w in a.split()) >= min_count
            and min(target_counts[w] for w in b.split()) >= min_count]
    return kept, Vocabulary.build(a for a, _ in kept), Vocabulary.build(b for _, b in kept)


def encode_batch(sentences: Sequence[str], vocabulary: Vocabulary, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Tokens (N, steps), each sentence then EOS then padding, and the lengths (N,) with the EOS."""
    tokens = np.full((len(sentences), steps), PAD, np.int64)
    lengths = np.zeros(len(sentences), np.int64)
    for row, sentence in enumerate(sentences):
        encoded = vocabulary.encode(sentence)
        if len(encoded) > steps:
            raise ValueError(f"{sentence!r} has {len(encoded)} tokens with its EOS, more than steps={steps}")
        tokens[row, : len(encoded)] = encoded
        lengths[row] = len(encoded)
    return tokens, lengths


def draw_teacher_forcing(rng: np.random.Generator, ratio: float, steps: int) -> np.ndarray:
    """(steps,) booleans, one per decoder step: True (feed the reference token next) with probability
    ``ratio``, each step drawn on its own. A batch shares its steps' draws (one decision per step for
    every sentence of the batch), where the PyTorch tutorials draw once per sentence."""
    if not 0 <= ratio <= 1:
        raise ValueError(f"teacher_forcing_ratio must be in [0, 1], got {ratio}")
    return rng.random(steps) < ratio
