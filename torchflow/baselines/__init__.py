"""Cheap baselines a specialist tries before a network, framework-free (NumPy only), one module per kind.

* :mod:`torchflow.baselines.ngram` -- :class:`CharNgram`, an interpolated Kneser-Ney character n-gram
  language model, and :func:`choose_order`, its order chosen on a validation slice;
* :mod:`torchflow.baselines.images` -- :func:`training_copies`, :func:`class_prototypes`,
  :func:`diagonal_gaussian`: "generators" that need no training.

One chapter's baselines per module besides, imported from their module:

* :mod:`torchflow.baselines.tags` -- most frequent tag with a suffix lookup (POS tagging);
* :mod:`torchflow.baselines.char_bayes` -- character n-gram naive Bayes and a per-class sampler (surnames);
* :mod:`torchflow.baselines.cooccurrence` -- PPMI-SVD word vectors and the unigram context model;
* :mod:`torchflow.baselines.image_translation` -- image "translators" without training (CycleGAN);
* :mod:`torchflow.baselines.pixels` -- independent Bernoulli pixels per class, a likelihood to beat (VAEs);
* :mod:`torchflow.baselines.lookup` -- word-by-word translation and nearest-neighbour reply retrieval;
* :mod:`torchflow.baselines.linear` -- multinomial logistic regression and a same-size MLP on pixels.
"""

from torchflow.baselines.images import class_prototypes, diagonal_gaussian, training_copies
from torchflow.baselines.ngram import CharNgram, choose_order

__all__ = ["CharNgram", "choose_order", "class_prototypes", "diagonal_gaussian", "training_copies"]
