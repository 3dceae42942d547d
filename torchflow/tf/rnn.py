"""Recurrent networks of the RNN chapter -- the TensorFlow twin.

Four models, each a one-layer recurrent layer (Keras ``SimpleRNN``, ``GRU`` or
``LSTM``, chosen by ``cell``) followed by a dense layer. Inputs are
batch-first in both twins, so that they take the same arrays.

Initialisation, the same in both twins: Keras' defaults for the recurrent
layer (Glorot input kernel, orthogonal recurrent kernel, zero biases, LSTM
forget bias 1 from ``unit_forget_bias``; ``GRU(reset_after=True)``, which is
PyTorch's GRU), which the PyTorch twin copies with
:func:`torchflow.pt.layers.keras_recurrent_init`; dense layers Glorot uniform with
zero biases; embeddings U(-0.05, 0.05).

    SurnameClassifier  one-hot letters (B, T, L) -> rnn -> last *real* step (B, H) -> dense -> (B, languages)
    SurnameGenerator   [one-hot letter, one-hot language] (B, T, L + N) -> rnn (B, T, H) -> dense -> (B, T, L)
    RowLSTM            image (B, 28, 28): 28 rows as 28 steps -> lstm -> last step (B, H) -> dense -> (B, 10)
    CharRNN            characters (B, T) -> embedding (B, T, E) -> rnn (B, T, H) -> dense -> (B, T, vocabulary)
"""

from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import GLOROT

CELLS = {"rnn": keras.layers.SimpleRNN, "gru": keras.layers.GRU, "lstm": keras.layers.LSTM}


def recurrent_layer(cell: str, input_dim: int, hidden_dim: int, **kwargs) -> keras.layers.Layer:
    """A Keras ``SimpleRNN``/``GRU``/``LSTM`` with its default initialisation (``GRU(reset_after=True)``)."""
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; use one of {', '.join(CELLS)}")
    if input_dim < 1 or hidden_dim < 1:
        raise ValueError(f"input_dim and hidden_dim must be >= 1, got {input_dim} and {hidden_dim}")
    return CELLS[cell](hidden_dim, **kwargs)


def sequence_loss(logits: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """Cross-entropy summed over the time steps of each sequence, averaged over the sequences.

    ``targets`` (B, T) hold -1 at padded steps, which add nothing.
    """
    targets = tf.convert_to_tensor(targets)
    mask = tf.cast(targets >= 0, logits.dtype)
    per_step = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.maximum(targets, 0), logits)
    return tf.reduce_mean(tf.reduce_sum(per_step * mask, axis=1))


class SurnameClassifier(keras.Model):
    def __init__(self, num_letters: int = 57, num_classes: int = 18, hidden_dim: int = 128,
                 cell: str = "gru") -> None:
        super().__init__()
        self.rnn = recurrent_layer(cell, num_letters, hidden_dim)  # returns the last (unmasked) step
        self.fc = keras.layers.Dense(num_classes, **GLOROT)
        self(tf.zeros([1, 1, num_letters]))  # create the weights now

    def call(self, letters: tf.Tensor, lengths: tf.Tensor | None = None) -> tf.Tensor:
        """Logits (B, classes) of one-hot names (B, T, L); ``lengths`` (B,) of a padded batch."""
        mask = None if lengths is None else tf.sequence_mask(lengths, tf.shape(letters)[1])
        return self.fc(self.rnn(letters, mask=mask))  # masking: padded steps leave the state unchanged


class SurnameGenerator(keras.Model):
    def __init__(self, num_letters: int = 58, num_languages: int = 18, hidden_dim: int = 128,
                 cell: str = "gru") -> None:
        super().__init__()
        self.num_languages = num_languages
        self.rnn = recurrent_layer(cell, num_letters + num_languages, hidden_dim, return_sequences=True,
                                   return_state=True)
        self.fc = keras.layers.Dense(num_letters, **GLOROT)
        self(tf.zeros([1, 1, num_letters]), tf.zeros([1], tf.int64))

    def call(self, letters: tf.Tensor, languages: tf.Tensor, state=None):
        """Next-letter logits (B, T, L) and the final state; the language is an input at *every* step."""
        language = tf.one_hot(languages, self.num_languages, dtype=letters.dtype)
        steps = tf.tile(language[:, None], [1, tf.shape(letters)[1], 1])  # (B, T, N)
        outputs, *state = self.rnn(tf.concat([letters, steps], axis=2), initial_state=state)
        return self.fc(outputs), state

    def next_letter_loss(self, letters: tf.Tensor, languages: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
        """Cross-entropy of each next letter (end-of-name included), summed over a name's steps."""
        return sequence_loss(self(letters, languages)[0], targets)


class RowLSTM(keras.Model):
    def __init__(self, input_dim: int = 28, hidden_dim: int = 128, num_classes: int = 10) -> None:
        super().__init__()
        self.lstm = recurrent_layer("lstm", input_dim, hidden_dim, return_sequences=True)
        self.fc = keras.layers.Dense(num_classes, **GLOROT)
        self(tf.zeros([1, 28, input_dim]))

    def hidden_states(self, images: tf.Tensor, unrolled: bool = False) -> tf.Tensor:
        """Hidden state after each row (B, 28, H): the fused layer, or the loop written out."""
        if not unrolled:
            return self.lstm(images)
        cell = self.lstm.cell  # the layer's own LSTMCell: the same weights, one step at a time
        zeros = tf.zeros([tf.shape(images)[0], cell.units], images.dtype)
        state, states = [zeros, zeros], []
        for row in tf.unstack(images, axis=1):  # 28 steps of (B, 28)
            h, state = cell(row, state)
            states.append(h)
        return tf.stack(states, axis=1)

    def call(self, images: tf.Tensor, unrolled: bool = False) -> tf.Tensor:
        return self.fc(self.hidden_states(images, unrolled)[:, -1])  # the last row's hidden state -> (B, 10)


class CharRNN(keras.Model):
    def __init__(self, vocab_size: int = 80, embedding_dim: int = 32, hidden_dim: int = 256,
                 cell: str = "lstm") -> None:
        super().__init__()
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim, embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05))
        self.rnn = recurrent_layer(cell, embedding_dim, hidden_dim, return_sequences=True, return_state=True)
        self.fc = keras.layers.Dense(vocab_size, **GLOROT)
        self(tf.zeros([1, 1], tf.int64))

    def call(self, chars: tf.Tensor, state=None):
        """Next-character logits (B, T, V) and the final state, to carry into the next batch."""
        outputs, *state = self.rnn(self.embedding(chars), initial_state=state)
        return self.fc(outputs), state
