"""A part-of-speech baseline without training: each word's most frequent training tag, a suffix lookup
for words never seen in training, and the most frequent tag overall as the last resort.

For a word ``w`` of the test text::

    tag(w) = argmax_t count(w, t)                 if w was seen in training
           = argmax_t count(suffix_k(w), t)       else, for the longest k <= max_suffix whose suffix was seen
           = argmax_t count(t)                    else

``count(suffix, t)`` counts the training tokens that end with ``suffix`` and carry ``t``. Ties go to the
tag first in sorted order, so the result does not depend on the order of the training text.
:func:`choose_suffix_length` picks ``max_suffix`` on a validation split.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence


def _best(counts: Counter) -> str:
    """The most frequent key; ties to the first in sorted order."""
    return min(counts, key=lambda tag: (-counts[tag], tag))


class MostFrequentTag:
    """Most frequent tag per training word, suffix lookup (up to ``max_suffix`` characters) for unseen words."""

    def __init__(self, max_suffix: int = 3) -> None:
        if max_suffix < 0:
            raise ValueError(f"max_suffix must be >= 0, got {max_suffix}")
        self.max_suffix = max_suffix
        self.word_tag: dict[str, str] = {}
        self.suffix_tag: dict[str, str] = {}
        self.default = ""

    def fit(self, words: Iterable[Sequence[str]], tags: Iterable[Sequence[str]]) -> MostFrequentTag:
        """Count the (word, tag) pairs of tagged sentences (``words[i][j]`` has ``tags[i][j]``)."""
        by_word: dict[str, Counter] = defaultdict(Counter)
        by_suffix: dict[str, Counter] = defaultdict(Counter)
        overall: Counter = Counter()
        for sentence, sentence_tags in zip(words, tags, strict=True):
            for word, tag in zip(sentence, sentence_tags, strict=True):
                by_word[word][tag] += 1
                overall[tag] += 1
                for k in range(1, min(self.max_suffix, len(word)) + 1):
                    by_suffix[word[-k:]][tag] += 1
        if not overall:
            raise ValueError("no tagged words to fit")
        self.word_tag = {word: _best(c) for word, c in by_word.items()}
        self.suffix_tag = {suffix: _best(c) for suffix, c in by_suffix.items()}
        self.default = _best(overall)
        return self

    def tag_word(self, word: str) -> str:
        if word in self.word_tag:
            return self.word_tag[word]
        for k in range(min(self.max_suffix, len(word)), 0, -1):  # the longest suffix seen decides
            if word[-k:] in self.suffix_tag:
                return self.suffix_tag[word[-k:]]
        return self.default

    def predict(self, words: Iterable[Sequence[str]]) -> list[list[str]]:
        """The tags of every word of every sentence."""
        return [[self.tag_word(word) for word in sentence] for sentence in words]

    def accuracy(self, words: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> tuple[float, float, int]:
        """(accuracy over all words, accuracy over the words unseen in training, number of unseen words)."""
        right = unseen_right = unseen = total = 0
        for sentence, gold, guess in zip(words, tags, self.predict(words), strict=True):
            for word, tag, guessed in zip(sentence, gold, guess, strict=True):
                total += 1
                right += tag == guessed
                if word not in self.word_tag:
                    unseen += 1
                    unseen_right += tag == guessed
        return right / max(total, 1), unseen_right / max(unseen, 1), unseen


def choose_suffix_length(train_words: Sequence[Sequence[str]], train_tags: Sequence[Sequence[str]],
                         valid_words: Sequence[Sequence[str]], valid_tags: Sequence[Sequence[str]],
                         lengths: Sequence[int] = (0, 1, 2, 3, 4, 5)) -> tuple[int, dict[int, float]]:
    """The ``max_suffix`` with the best validation accuracy (the shortest among ties), and each one's accuracy."""
    scores = {k: MostFrequentTag(k).fit(train_words, train_tags).accuracy(valid_words, valid_tags)[0]
              for k in lengths}
    best = max(scores.values())
    return min(k for k, score in scores.items() if score == best), scores
