"""Scores computed from predictions, framework-free: confusion matrices and per-class accuracy."""

from __future__ import annotations

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts (true class, predicted class)."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Accuracy of each true class, from a confusion matrix."""
    return np.diag(matrix) / np.maximum(matrix.sum(1), 1)


def corpus_bleu(hypotheses: list[str], references: list[str]) -> float:
    """Corpus BLEU (0-100) of tokenised sentences against one reference each: sacrebleu's BLEU-4
    (Papineni et al., 2002) with its defaults (exponential smoothing), on the words as given."""
    import sacrebleu

    if len(hypotheses) != len(references) or not references:
        raise ValueError(f"need as many hypotheses as references, at least one: {len(hypotheses)}, {len(references)}")
    return float(sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none").score)


def exact_match(hypotheses: list[str], references: list[str]) -> float:
    """The fraction of hypotheses identical to their reference."""
    if len(hypotheses) != len(references) or not references:
        raise ValueError(f"need as many hypotheses as references, at least one: {len(hypotheses)}, {len(references)}")
    return float(np.mean([h == r for h, r in zip(hypotheses, references, strict=True)]))
