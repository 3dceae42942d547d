"""Lookup baselines of the seq2seq chapter: word-by-word translation and nearest-neighbour reply retrieval.

Both learn from the training pairs only, in NumPy and plain Python, in a second or two:

* :class:`WordByWord` translates each source word into its most probable target word under a
  translation table learnt from the training pairs (IBM Model 1, by EM), in the source's order.
  What it scores shows how much of a translation task a dictionary alone solves: no
  reordering, no word that the source does not name.
* :class:`NearestReply` answers a prompt with the reply of the most similar training prompt
  (TF-IDF vectors of the words, cosine similarity), the retrieval chatbot a seq2seq model must
  beat on prompts it has not seen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


class WordByWord:
    """Source word -> its most probable target word under IBM Model 1, learnt by EM from the pairs.

    Model 1 (Brown et al., 1993) explains each target word as a translation of one source word
    (or of an empty ``NULL`` word, which absorbs words such as English *and* that nothing in the
    source names), every alignment equally likely a priori; ``iterations`` of EM estimate the
    translation table ``t(target | source)``, starting from uniform. A source word is translated
    by its most probable target word, kept only if that probability is at least ``min_probability``.
    """

    def __init__(self, pairs: Sequence[tuple[str, str]], iterations: int = 10, min_probability: float = 0.0) -> None:
        if not pairs:
            raise ValueError("WordByWord needs at least one training pair")
        self.source_words = ["<null>", *sorted({w for s, _ in pairs for w in s.split()})]
        self.target_words = sorted({w for _, t in pairs for w in t.split()})
        source_index = {w: i for i, w in enumerate(self.source_words)}
        target_index = {w: i for i, w in enumerate(self.target_words)}
        # every (source position, target position) of every pair, flattened: the EM sums run over these
        grid_s, grid_t, group = [], [], []
        groups = 0
        for source, target in pairs:
            s = [0] + [source_index[w] for w in source.split()]
            for t in (target_index[w] for w in target.split()):
                grid_s += s
                grid_t += [t] * len(s)
                group += [groups] * len(s)  # one group per target word: its alignments sum to 1
                groups += 1
        grid_s, grid_t, group = (np.array(a, dtype=np.int64) for a in (grid_s, grid_t, group))
        vs, vt = len(self.source_words), len(self.target_words)
        table = np.full((vs, vt), 1.0 / vt)
        for _ in range(iterations):
            p = table[grid_s, grid_t]
            posterior = p / np.bincount(group, p, minlength=groups)[group]  # E: which source word made it
            counts = np.bincount(grid_s * vt + grid_t, posterior, minlength=vs * vt).reshape(vs, vt)
            totals = counts.sum(1, keepdims=True)
            table = np.where(totals > 0, counts / np.where(totals > 0, totals, 1), 1.0 / vt)  # M: normalise
        self.table = table
        self.index = source_index
        self.min_probability = min_probability

    def best(self, word: str) -> tuple[str, float] | None:
        """The most probable translation of ``word`` and its probability; None for an unknown word."""
        if word not in self.index:
            return None
        row = self.table[self.index[word]]
        return self.target_words[int(np.argmax(row))], float(row.max())

    def translate(self, sentence: str) -> str:
        """The words' translations, in the source order; unknown and improbable translations dropped."""
        out = (self.best(w) for w in sentence.split())
        return " ".join(b[0] for b in out if b is not None and b[1] >= self.min_probability)

    def __call__(self, sentences: Sequence[str]) -> list[str]:
        return [self.translate(s) for s in sentences]


class NearestReply:
    """The reply of the training prompt with the highest TF-IDF cosine similarity to the prompt."""

    def __init__(self, prompts: Sequence[str], replies: Sequence[str]) -> None:
        if len(prompts) != len(replies) or not prompts:
            raise ValueError(f"need as many prompts as replies, at least one: {len(prompts)}, {len(replies)}")
        self.words = {w: i for i, w in enumerate(sorted({w for p in prompts for w in p.split()}))}
        documents = Counter(w for p in prompts for w in set(p.split()))
        # smoothed idf (as scikit-learn's): a word in every prompt still counts a little
        self.idf = np.array([np.log((1 + len(prompts)) / (1 + documents[w])) + 1 for w in self.words])
        self.matrix = np.stack([self._vector(p) for p in prompts])
        self.replies = list(replies)

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(len(self.words))
        for word, count in Counter(text.split()).items():
            if word in self.words:
                vector[self.words[word]] = count
        vector *= self.idf
        norm = np.linalg.norm(vector)
        return vector / norm if norm > 0 else vector

    def nearest(self, prompt: str) -> int:
        """The index of the most similar training prompt (the first of equals; 0 if no word is known)."""
        return int(np.argmax(self.matrix @ self._vector(prompt)))

    def reply(self, prompt: str) -> str:
        return self.replies[self.nearest(prompt)]

    def __call__(self, prompts: Sequence[str]) -> list[str]:
        return [self.reply(p) for p in prompts]
