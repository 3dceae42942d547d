"""Skip-gram with a sampled loss: noise-contrastive estimation (NCE) or negative sampling -- the TensorFlow twin.

The full softmax over a vocabulary of V words costs a (B, D) x (D, V) product per
step. NCE instead turns each (word, context) pair into a binary question: is the
context word the true one, or one of ``S`` noise words drawn from a known
distribution Q? The logit of a candidate ``w`` for the input vector ``e`` is
corrected by the log of how often the sampler is expected to draw it::

    s(w) = e . u_w + b_w - log(S Q(w))
    loss = -log sigmoid(s(true word)) - sum over the S sampled words of log(1 - sigmoid(s(w)))

This twin calls ``tf.nn.nce_loss`` (``subtract_log_q=True`` inside), handing it the
sampled words through ``sampled_values`` so that both twins see the same noise.
The output table ``nce`` holds weights (V, D) and biases (V,) in the PyTorch
layout (one row per word, as ``tf.nn.nce_loss`` wants them: a ``Dense`` layer's
(D, V) kernel would be transposed, a full copy of the table, on every step);
``nce(e)`` gives the logits of the full softmax with the same weights, used to
compare the two losses. Dimension flow::

    center (B,) -> embeddings (B, D) -> . u_w + b_w - log(S Q(w)) for the true and the S sampled words
                                        (B, 1 + S) logits -> sigmoid cross-entropy, summed (B,) -> mean
    (full softmax: embeddings (B, D) -> nce (B, V) logits -> cross-entropy)

word2vec's **negative sampling** (SGNS, Mikolov et al., 2013) is ``sgns_loss``: the plain score, no bias
and no ``log(S Q(w))``, against ``K`` noise words drawn *for each pair* (``negatives`` (B, K))::

    loss = -log sigmoid(e . u_c) - sum over the K noise words n of log sigmoid(-e . u_n)

It no longer estimates the softmax: ``e . u_c`` tends to the PMI of word and context less ``log K``
(Levy and Goldberg, 2014). The bias ``nce.bias`` is not used by it (its gradient is ``None``).

Initialisation, declared in both twins: embedding rows U(-1, 1),
the output layer Glorot uniform with zero biases.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import GLOROT, embedding


class OutputTable(keras.layers.Layer):
    """A dense layer stored row per output, ``weight`` (V, D) and ``bias`` (V,): ``e @ weight.T + bias``.

    ``torch_layout`` tells :mod:`torchflow.convert` to copy PyTorch's ``nn.Linear`` weights unchanged.
    """

    torch_layout = True

    def __init__(self, units: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape) -> None:
        self.weight = self.add_weight(shape=(self.units, input_shape[-1]), initializer=GLOROT["kernel_initializer"],
                                      name="weight")
        self.bias = self.add_weight(shape=(self.units,), initializer=GLOROT["bias_initializer"], name="bias")

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return tf.matmul(inputs, self.weight, transpose_b=True) + self.bias


class SkipGramNCE(keras.Model):
    def __init__(self, vocab_size: int, embedding_dim: int = 2) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.nce = OutputTable(vocab_size)  # weight (V, D): one output vector per word
        self.nce(self.embeddings(tf.zeros([1], tf.int64)))  # create the weights now

    def activations(self, center: tf.Tensor) -> dict[str, tf.Tensor]:
        embedded = self.embeddings(center)  # (B, D)
        return {"center": center, "embedded": embedded, "logits": self.nce(embedded)}  # full softmax (B, V)

    def call(self, center: tf.Tensor) -> tf.Tensor:
        return self.embeddings(center)

    def nce_loss(self, center: tf.Tensor, context: tf.Tensor, sampled: tf.Tensor,
                 true_expected: tf.Tensor, sampled_expected: tf.Tensor) -> tf.Tensor:
        """Mean NCE loss of the pairs (center, context) against the ``sampled`` noise words (shared by
        the batch); ``true_expected`` (B,) and ``sampled_expected`` (S,) are S Q(w) of those words."""
        losses = tf.nn.nce_loss(
            weights=self.nce.weight, biases=self.nce.bias,  # (V, D) and (V,)
            labels=tf.reshape(tf.cast(context, tf.int64), [-1, 1]), inputs=self.embeddings(center),
            num_sampled=sampled.shape[0], num_classes=self.vocab_size,
            sampled_values=(tf.cast(sampled, tf.int64), tf.reshape(true_expected, [-1, 1]), sampled_expected))
        return tf.reduce_mean(losses)

    def softmax_loss(self, center: tf.Tensor, context: tf.Tensor) -> tf.Tensor:
        """The full softmax's cross-entropy over all V words, with the same weights."""
        logits = self.nce(self.embeddings(center))
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(context, logits))

    def sgns_loss(self, center: tf.Tensor, context: tf.Tensor, negatives: tf.Tensor) -> tf.Tensor:
        """Mean negative-sampling loss of the pairs (center, context) against ``negatives`` (B, K), K noise
        words for each pair."""
        embedded = self.embeddings(center)  # (B, D)
        weight = self.nce.weight
        positive = tf.reduce_sum(embedded * tf.gather(weight, context), 1)  # (B,)
        negative = tf.einsum("bd,bkd->bk", embedded, tf.gather(weight, negatives))  # (B, K)
        # -log sigmoid(x) = softplus(-x); -log sigmoid(-x) = softplus(x)
        return tf.reduce_mean(tf.nn.softplus(-positive) + tf.reduce_sum(tf.nn.softplus(negative), 1))
