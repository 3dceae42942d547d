"""N-gram language model, CBOW and skip-gram: three ways to learn word embeddings -- the TensorFlow twin.

Each model starts with an embedding table, ``(vocab_size, embedding_dim)``: row ``i``
is the vector of word ``i``, and looking it up is the product of a one-hot row with
the table. Each ends with a full softmax over the vocabulary (the logits here; the
loss is the cross-entropy). They differ in what predicts what:

    NGramLM  the context_size previous words -> the next word
        context (B, 2) -> embeddings (B, 2, 10) -> flatten (B, 20) -> dense 128 -> relu (B, 128)
                       -> dense vocab_size (B, V) logits
    CBOW     the words around a position -> the word at it (window 1: two context words)
        context (B, 2) -> embeddings (B, 2, 10) -> mean (B, 10) -> dense vocab_size (B, V) logits
    SkipGram a word -> one of the words around it
        center (B,) -> embeddings (B, 10) -> dense vocab_size (B, V) logits

Initialisation, declared in both twins: embedding rows U(-1, 1) (PyTorch's
default is N(0, 1), Keras' U(-0.05, 0.05)), dense layers Glorot uniform
with zero biases (Keras' default; PyTorch's is a uniform with a = sqrt(5)).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import GLOROT, embedding


class NGramLM(keras.Model):
    def __init__(self, vocab_size: int, embedding_dim: int = 10, context_size: int = 2,
                 hidden_dim: int = 128) -> None:
        super().__init__()
        if context_size < 1 or hidden_dim < 1:
            raise ValueError(f"context_size and hidden_dim must be >= 1, got {context_size} and {hidden_dim}")
        self.context_size = context_size
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.linear1 = keras.layers.Dense(hidden_dim, **GLOROT)
        self.linear2 = keras.layers.Dense(vocab_size, **GLOROT)
        self(tf.zeros([1, context_size], tf.int64))  # create the weights now

    def activations(self, context: tf.Tensor) -> dict[str, tf.Tensor]:
        embedded = self.embeddings(context)  # (B, 2, 10)
        flat = tf.reshape(embedded, [tf.shape(context)[0], -1])  # (B, 20)
        hidden = tf.nn.relu(self.linear1(flat))  # (B, 128)
        return {"context": context, "embedded": embedded, "flattened": flat, "hidden": hidden,
                "logits": self.linear2(hidden)}  # (B, V)

    def call(self, context: tf.Tensor) -> tf.Tensor:
        return self.activations(context)["logits"]


class CBOW(keras.Model):
    def __init__(self, vocab_size: int, embedding_dim: int = 10, context_size: int = 2) -> None:
        super().__init__()
        if context_size < 1:
            raise ValueError(f"context_size must be >= 1, got {context_size}")
        self.context_size = context_size
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.linear = keras.layers.Dense(vocab_size, **GLOROT)
        self(tf.zeros([1, context_size], tf.int64))

    def activations(self, context: tf.Tensor) -> dict[str, tf.Tensor]:
        embedded = self.embeddings(context)  # (B, 2, 10)
        mean = tf.reduce_mean(embedded, 1)  # (B, 10): the bag of context words, order forgotten
        return {"context": context, "embedded": embedded, "mean": mean, "logits": self.linear(mean)}

    def call(self, context: tf.Tensor) -> tf.Tensor:
        return self.activations(context)["logits"]


class SkipGram(keras.Model):
    def __init__(self, vocab_size: int, embedding_dim: int = 10) -> None:
        super().__init__()
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.linear = keras.layers.Dense(vocab_size, **GLOROT)
        self(tf.zeros([1], tf.int64))

    def activations(self, center: tf.Tensor) -> dict[str, tf.Tensor]:
        embedded = self.embeddings(center)  # (B, 10)
        return {"center": center, "embedded": embedded, "logits": self.linear(embedded)}

    def call(self, center: tf.Tensor) -> tf.Tensor:
        return self.activations(center)["logits"]
