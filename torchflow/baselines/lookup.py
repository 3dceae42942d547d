"""Lookup baselines of the seq2seq chapter: word-by-word translation and nearest-neighbour reply retrieval.

Both learn from the training pairs only, in NumPy and plain Python, in a second or two:

* :class:`WordByWord` translates each source word into the target word that co-occurs with it
  most strongly in the training pairs (the Dice coefficient of their sentence counts), in the
  source's order, dropping a word whose best association is weaker than ``min_dice`` (a word
  with no counterpart, such as French ``et``). What it scores shows how much of a translation
  task a dictionary alone solves: no reordering, no word that the source does not name.
* :class:`NearestReply` answers a prompt with the reply of the most similar training prompt
  (TF-IDF vectors of the words, cosine similarity), the retrieval chatbot a seq2seq model must
  beat on prompts it has not seen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


class WordByWord:
    """Source word -> its most associated target word (Dice over sentence co-occurrence)."""

    def __init__(self, pairs: Sequence[tuple[str, str]], min_dice: float = 0.0) -> None:
        if not pairs:
            raise ValueError("WordByWord needs at least one training pair")
        source_counts, target_counts, both = Counter(), Counter(), Counter()
        for source, target in pairs:
            source_words, target_words = set(source.split()), set(target.split())
            source_counts.update(source_words)
            target_counts.update(target_words)
            both.update((s, t) for s in source_words for t in target_words)
        best: dict[str, tuple[float, str]] = {}
        for (s, t), count in both.items():
            dice = 2 * count / (source_counts[s] + target_counts[t])
            if (dice, t) > best.get(s, (-1.0, "")):  # ties: the later word in sort order, deterministic
                best[s] = (dice, t)
        self.table = best
        self.min_dice = min_dice

    def translate(self, sentence: str) -> str:
        """The words' translations, in the source order; unknown and weakly associated words dropped."""
        return " ".join(self.table[w][1] for w in sentence.split()
                        if w in self.table and self.table[w][0] >= self.min_dice)

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
