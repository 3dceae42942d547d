"""Preparation: what turns loaded data into what a page trains on.

:mod:`torchflow.data` acquires datasets (sources, files, checksums, one module per dataset) and
hands over plain arrays, texts and pairs; this package prepares them, the same way for both
twins: :mod:`~torchflow.prep.split` (train / validation / test parts),
:mod:`~torchflow.prep.characters` (alphabets, one-hot names, text streams),
:mod:`~torchflow.prep.words` (tokens, vocabularies, n-gram / CBOW / skip-gram examples, noise),
:mod:`~torchflow.prep.sentences` (normalised pairs, vocabularies with EOS, teacher forcing),
:mod:`~torchflow.prep.augment` (affine distortions) and :mod:`~torchflow.prep.wrappers`
(``DataLoader`` / ``tf.data`` over the same arrays in the same order, :mod:`~torchflow.prep.order`).
"""
