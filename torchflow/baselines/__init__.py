"""Cheap baselines a specialist tries before a network, framework-free (NumPy only), one module per kind.

* :mod:`torchflow.baselines.ngram` -- :class:`CharNgram`, an interpolated Kneser-Ney character n-gram
  language model, and :func:`choose_order`, its order chosen on a validation slice;
* :mod:`torchflow.baselines.images` -- :func:`training_copies`, :func:`class_prototypes`,
  :func:`diagonal_gaussian`: "generators" that need no training.

Other modules of this package hold the baselines of one chapter each; import them from their module.
"""

from torchflow.baselines.images import class_prototypes, diagonal_gaussian, training_copies
from torchflow.baselines.ngram import CharNgram, choose_order

__all__ = ["CharNgram", "choose_order", "class_prototypes", "diagonal_gaussian", "training_copies"]
