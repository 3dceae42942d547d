"""LSTM part-of-speech taggers, with and without character features -- the TensorFlow twin.

``LSTMTagger``: each word's embedding goes through an LSTM, whose state at each
word gives that word's tag scores. ``CharLSTMTagger`` adds a second, character-level
LSTM that reads each word's letters; its state after the last letter (the suffix,
which often marks the word's class) is joined to the word's embedding. A word the
tagger never saw in training has only the unknown-word embedding, but it still
has its letters. Dimension flow::

    LSTMTagger      words (B, T) -> embeddings (B, T, E) -> LSTM (B, T, H) -> dense (B, T, tags)
    CharLSTMTagger  chars (B, T, C) -> char embeddings (B*T, C, e) -> char LSTM (B*T, C, h)
                       -> state after each word's last letter (B, T, h)
                    words (B, T) -> embeddings (B, T, E) -> joined with it (B, T, E + h)
                       -> LSTM (B, T, H) -> dense (B, T, tags)

``bidirectional=True`` adds a second word-level LSTM that reads each sentence from its
last real word back to its first; its states are joined to the forward ones (B, T, 2H),
so a word's tag can depend on the words after it.

Id 0 pads words and characters (padding goes at the end: a one-way LSTM's states at
the real words do not see it; the backward LSTM is given the mask of the real words, so
it starts at each sentence's last real word). Initialisation, the same in both twins: embedding rows
U(-1, 1), the LSTMs with Keras' defaults (Glorot input kernel, orthogonal recurrent
kernel, one bias, forget bias 1), the dense layer Glorot uniform with zero biases.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import GLOROT, check_positive, embedding


def word_lstm(hidden_dim: int, bidirectional: bool) -> keras.layers.Layer:
    """The sentence-level LSTM, one-way or both ways (``Bidirectional``: forward and backward states joined)."""
    lstm = keras.layers.LSTM(hidden_dim, return_sequences=True)
    return keras.layers.Bidirectional(lstm, merge_mode="concat") if bidirectional else lstm


def run_word_lstm(lstm: keras.layers.Layer, inputs: tf.Tensor, words: tf.Tensor) -> tf.Tensor:
    """States (B, T, H or 2H); a bidirectional LSTM is masked so its backward pass starts at the last real word."""
    if not isinstance(lstm, keras.layers.Bidirectional):
        return lstm(inputs)
    return lstm(inputs, mask=words != 0)


class LSTMTagger(keras.Model):
    def __init__(self, vocab_size: int, tagset_size: int, embedding_dim: int = 6, hidden_dim: int = 16,
                 bidirectional: bool = False) -> None:
        super().__init__()
        check_positive(vocab_size=vocab_size, tagset_size=tagset_size, embedding_dim=embedding_dim,
                       hidden_dim=hidden_dim)
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.lstm = word_lstm(hidden_dim, bidirectional)
        self.hidden2tag = keras.layers.Dense(tagset_size, **GLOROT)
        self(tf.zeros([1, 1], tf.int64))  # create the weights now

    def activations(self, words: tf.Tensor) -> dict[str, tf.Tensor]:
        embedded = self.embeddings(words)  # (B, T, E)
        hidden = run_word_lstm(self.lstm, embedded, words)  # (B, T, H), or (B, T, 2H) both ways
        return {"words": words, "embedded": embedded, "lstm": hidden, "tag_scores": self.hidden2tag(hidden)}

    def call(self, words: tf.Tensor) -> tf.Tensor:
        return self.activations(words)["tag_scores"]


class CharLSTMTagger(keras.Model):
    def __init__(self, vocab_size: int, tagset_size: int, alphabet_size: int, embedding_dim: int = 6,
                 hidden_dim: int = 16, char_embedding_dim: int = 3, char_hidden_dim: int = 3,
                 bidirectional: bool = False) -> None:
        super().__init__()
        check_positive(vocab_size=vocab_size, tagset_size=tagset_size, alphabet_size=alphabet_size,
                       embedding_dim=embedding_dim, hidden_dim=hidden_dim, char_embedding_dim=char_embedding_dim,
                       char_hidden_dim=char_hidden_dim)
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.char_embeddings = embedding(alphabet_size, char_embedding_dim)
        self.char_lstm = keras.layers.LSTM(char_hidden_dim, return_sequences=True)
        self.lstm = word_lstm(hidden_dim, bidirectional)
        self.hidden2tag = keras.layers.Dense(tagset_size, **GLOROT)
        self(tf.zeros([1, 1], tf.int64), tf.ones([1, 1, 1], tf.int64))  # create the weights now

    def activations(self, words: tf.Tensor, chars: tf.Tensor) -> dict[str, tf.Tensor]:
        batch, length, letters = tf.shape(chars)[0], tf.shape(chars)[1], tf.shape(chars)[2]
        char_embedded = self.char_embeddings(tf.reshape(chars, [batch * length, letters]))  # (B*T, C, e)
        char_states = self.char_lstm(char_embedded)  # (B*T, C, h)
        last = tf.maximum(tf.reshape(tf.math.count_nonzero(chars, -1), [-1]) - 1, 0)  # each word's last letter
        char_features = tf.reshape(tf.gather(char_states, last, batch_dims=1),
                                   [batch, length, char_states.shape[-1]])  # (B, T, h)
        embedded = self.embeddings(words)  # (B, T, E)
        joined = tf.concat([embedded, char_features], -1)  # (B, T, E + h)
        hidden = run_word_lstm(self.lstm, joined, words)  # (B, T, H), or (B, T, 2H) both ways
        return {"words": words, "chars": chars, "char_embedded": char_embedded, "char_lstm": char_states,
                "char_features": char_features, "embedded": embedded, "joined": joined, "lstm": hidden,
                "tag_scores": self.hidden2tag(hidden)}

    def call(self, words: tf.Tensor, chars: tf.Tensor) -> tf.Tensor:
        return self.activations(words, chars)["tag_scores"]
