"""Encoder-decoder networks for translation and dialogue -- the TensorFlow twin.

A GRU *encoder* reads the source sentence; a *decoder* writes the target one
token at a time, from the encoder's last hidden state (the context vector) and,
with attention, from a weighted sum of all the encoder's outputs. Tokens are
integers; ``PAD`` fills a batch's shorter sentences, every sentence ends in
``EOS`` and decoding starts from ``SOS``. Batches are batch-first::

    source (B, S) -> embedding (B, S, H) -> GRU over all steps at once -> outputs (B, S, H)
                                                       hidden = output at each sentence's last token (B, H)
    decoder step: token (B,), hidden (B, H), outputs (B, S, H) -> log-probabilities (B, V), hidden (B, H)

Four decoders:

* :class:`DecoderRNN`, the plain one: ``relu(embed(token)) -> GRU cell -> linear``; it sees
  the source only through the context vector;
* :class:`AttnDecoderRNN`, the original PyTorch tutorial's *location-based* attention: weights
  ``softmax(W [embedded; hidden])`` over ``max_length`` positions, computed without comparing
  the state with any encoder output (the source reaches them only through the decoder's
  state), ``bmm`` with the outputs, ``relu(W_c [embedded; applied]) -> GRU cell -> linear``;
* :class:`BahdanauAttnDecoderRNN`, additive attention (Bahdanau et al., 2015; the current
  PyTorch tutorial's): scores ``v^T tanh(W_a h_{t-1} + U_a hbar_s)`` from the *previous* state,
  softmax over the real source positions, context ``c_t``, ``GRU cell([embedded; c_t]) -> linear``;
* :class:`LuongAttnDecoderRNN`, Luong et al. (2015) global attention: the GRU cell first, then
  scores between its state :math:`h_t` and each encoder output :math:`\\bar h_s` --
  ``dot`` :math:`h_t^\\top \\bar h_s`, ``general`` :math:`h_t^\\top W \\bar h_s`, ``concat``
  :math:`v^\\top \\tanh(W [h_t; \\bar h_s])` -- softmax over the real (unpadded) source
  positions, context :math:`c_t = \\sum_s a_s \\bar h_s`, ``tanh(W_c [h_t; c_t]) -> linear``.
  The score layers have no bias, as in the paper (a bias in ``general`` would add the same
  number to every score, which the softmax ignores).

Initialisation, the same in both twins: embeddings U(-0.05, 0.05) (Keras' default; PyTorch's
is N(0, 1)), dense layers Glorot uniform with zero biases, GRUs as Keras draws them
(its defaults: Glorot input kernel, orthogonal recurrent kernel, zero biases,
``reset_after=True``, which is PyTorch's GRU; :mod:`torchflow.convert` maps the gate order).
"""
from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import GLOROT

PAD, SOS, EOS = 0, 1, 2
METHODS = ("dot", "general", "concat")


def _embedding(vocab_size: int, hidden_size: int) -> keras.layers.Embedding:
    if vocab_size < 3 or hidden_size < 1:
        raise ValueError(f"vocab_size must be >= 3 (PAD, SOS, EOS) and hidden_size >= 1, "
                         f"got {vocab_size} and {hidden_size}")
    return keras.layers.Embedding(vocab_size, hidden_size,
                                  embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05))


def source_mask(lengths: tf.Tensor, steps: int) -> tf.Tensor:
    """(B, steps) booleans: True at the real tokens of each sentence, False at its padding."""
    return tf.range(steps)[None, :] < tf.cast(lengths, tf.int32)[:, None]


def reverse_index(lengths: tf.Tensor, steps: int) -> tf.Tensor:
    """(B, steps) positions that reverse each sentence within its length and leave its padding in place."""
    positions, lengths = tf.range(steps)[None, :], tf.cast(lengths, tf.int32)[:, None]
    return tf.where(positions < lengths, lengths - 1 - positions, positions)


def _take(values: tf.Tensor, index: tf.Tensor) -> tf.Tensor:
    """``values[b, index[b, t]]`` for (B, S, H) values and (B, S) positions."""
    return tf.gather(values, index, batch_dims=1)


class EncoderRNN(keras.Model):
    """Embedding and a one-layer GRU; ``bidirectional`` adds a GRU that reads each sentence backwards,
    and the two directions' outputs (and last states) are summed."""

    def __init__(self, vocab_size: int, hidden_size: int = 128, bidirectional: bool = False) -> None:
        super().__init__()
        self.hidden_size, self.bidirectional = hidden_size, bidirectional
        self.embedding = _embedding(vocab_size, hidden_size)
        self.gru = keras.layers.GRU(hidden_size, return_sequences=True)
        if bidirectional:
            self.backward_gru = keras.layers.GRU(hidden_size, return_sequences=True)
        self(tf.zeros([1, 1], tf.int32), tf.ones([1], tf.int32))  # create the weights now

    def _run(self, gru: keras.layers.GRU, embedded: tf.Tensor, stepwise: bool) -> tf.Tensor:
        if not stepwise:
            return gru(embedded)  # every time step in one call: (B, S, H)
        outputs, state = [], None
        for t in range(embedded.shape[1]):  # the original tutorial's loop, one token at a time
            output = gru(embedded[:, t : t + 1], initial_state=state)
            outputs.append(output)
            state = output[:, 0]
        return tf.concat(outputs, 1)

    def call(self, tokens: tf.Tensor, lengths: tf.Tensor, stepwise: bool = False) -> tuple[tf.Tensor, tf.Tensor]:
        """(outputs (B, S, H), zero at padding; hidden (B, H)) for tokens (B, S) of ``lengths`` (B,)."""
        steps, lengths = tokens.shape[1], tf.cast(lengths, tf.int32)
        embedded = self.embedding(tokens)  # (B, S, H)
        outputs = self._run(self.gru, embedded, stepwise)
        hidden = tf.gather(outputs, lengths - 1, batch_dims=1)  # the state after each sentence's last real token
        if self.bidirectional:
            index = reverse_index(lengths, steps)
            backward = _take(self._run(self.backward_gru, _take(embedded, index), stepwise), index)
            outputs, hidden = outputs + backward, hidden + backward[:, 0]
        return outputs * tf.cast(source_mask(lengths, steps), outputs.dtype)[..., None], hidden


class DecoderRNN(keras.Model):
    """The plain decoder: the source reaches it only through the initial hidden state."""

    def __init__(self, vocab_size: int, hidden_size: int = 128) -> None:
        super().__init__()
        self.embedding = _embedding(vocab_size, hidden_size)
        self.gru = keras.layers.GRUCell(hidden_size)
        self.out = keras.layers.Dense(vocab_size, **GLOROT)
        self(tf.zeros([1], tf.int32), tf.zeros([1, hidden_size]))  # create the weights now

    def call(self, token: tf.Tensor, hidden: tf.Tensor, encoder_outputs: tf.Tensor | None = None,
             source_mask: tf.Tensor | None = None) -> tuple[tf.Tensor, tf.Tensor, None]:
        hidden, _ = self.gru(tf.nn.relu(self.embedding(token)), hidden)  # (B, H)
        return tf.nn.log_softmax(self.out(hidden), -1), hidden, None


class AttnDecoderRNN(keras.Model):
    """Location-based attention (the original tutorial's): weights from the embedded token and the state only."""

    def __init__(self, vocab_size: int, hidden_size: int = 128, max_length: int = 10) -> None:
        super().__init__()
        if max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {max_length}")
        self.max_length = max_length
        self.embedding = _embedding(vocab_size, hidden_size)
        self.attn = keras.layers.Dense(max_length, **GLOROT)
        self.attn_combine = keras.layers.Dense(hidden_size, **GLOROT)
        self.gru = keras.layers.GRUCell(hidden_size)
        self.out = keras.layers.Dense(vocab_size, **GLOROT)
        self(tf.zeros([1], tf.int32), tf.zeros([1, hidden_size]), tf.zeros([1, max_length, hidden_size]))

    def call(self, token: tf.Tensor, hidden: tf.Tensor, encoder_outputs: tf.Tensor,
             source_mask: tf.Tensor | None = None) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        if encoder_outputs.shape[1] != self.max_length:
            raise ValueError(f"AttnDecoderRNN attends over max_length={self.max_length} positions; pad the "
                             f"source to that length (got {encoder_outputs.shape[1]})")
        embedded = self.embedding(token)  # (B, H)
        weights = tf.nn.softmax(self.attn(tf.concat([embedded, hidden], -1)), -1)  # (B, L): no encoder output compared
        applied = tf.matmul(weights[:, None], encoder_outputs)[:, 0]  # (B, 1, L) x (B, L, H) -> (B, H)
        x = tf.nn.relu(self.attn_combine(tf.concat([embedded, applied], -1)))
        hidden, _ = self.gru(x, hidden)
        return tf.nn.log_softmax(self.out(hidden), -1), hidden, weights


class BahdanauAttnDecoderRNN(keras.Model):
    """Additive attention: the previous state is compared with each encoder output through a tanh layer."""

    def __init__(self, vocab_size: int, hidden_size: int = 128) -> None:
        super().__init__()
        self.embedding = _embedding(vocab_size, hidden_size)
        self.Wa = keras.layers.Dense(hidden_size, **GLOROT)  # the query: the decoder's previous state
        self.Ua = keras.layers.Dense(hidden_size, **GLOROT)  # the keys: every encoder output
        self.Va = keras.layers.Dense(1, use_bias=False, kernel_initializer="glorot_uniform")  # see the PyTorch twin
        self.gru = keras.layers.GRUCell(hidden_size)
        self.out = keras.layers.Dense(vocab_size, **GLOROT)
        self(tf.zeros([1], tf.int32), tf.zeros([1, hidden_size]), tf.zeros([1, 1, hidden_size]), tf.ones([1, 1], bool))

    def score(self, hidden: tf.Tensor, encoder_outputs: tf.Tensor) -> tf.Tensor:
        """(B, S) scores ``v^T tanh(W_a h + U_a hbar_s)`` of the state (B, H) against the outputs (B, S, H)."""
        return self.Va(tf.tanh(self.Wa(hidden)[:, None] + self.Ua(encoder_outputs)))[..., 0]

    def call(self, token: tf.Tensor, hidden: tf.Tensor, encoder_outputs: tf.Tensor,
             source_mask: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        scores = self.score(hidden, encoder_outputs)
        scores = tf.where(source_mask, scores, -1e9 * tf.ones_like(scores))
        weights = tf.nn.softmax(scores, -1)  # attention first, then the GRU: (B, S), zero on padding
        context = tf.matmul(weights[:, None], encoder_outputs)[:, 0]  # (B, H)
        hidden, _ = self.gru(tf.concat([self.embedding(token), context], -1), hidden)
        return tf.nn.log_softmax(self.out(hidden), -1), hidden, weights


class LuongAttnDecoderRNN(keras.Model):
    """Luong global attention: content-based scores between the decoder state and each encoder output."""

    def __init__(self, vocab_size: int, hidden_size: int = 128, method: str = "general") -> None:
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"unknown attention method {method!r}; use one of {', '.join(METHODS)}")
        self.method = method
        self.embedding = _embedding(vocab_size, hidden_size)
        self.gru = keras.layers.GRUCell(hidden_size)
        if method == "general":
            self.attn = keras.layers.Dense(hidden_size, use_bias=False, kernel_initializer="glorot_uniform")
        elif method == "concat":
            self.attn = keras.layers.Dense(hidden_size, use_bias=False, kernel_initializer="glorot_uniform")
            self.v = keras.layers.Dense(1, use_bias=False, kernel_initializer="glorot_uniform")
        self.concat = keras.layers.Dense(hidden_size, **GLOROT)
        self.out = keras.layers.Dense(vocab_size, **GLOROT)
        self(tf.zeros([1], tf.int32), tf.zeros([1, hidden_size]), tf.zeros([1, 1, hidden_size]), tf.ones([1, 1], bool))

    def score(self, hidden: tf.Tensor, encoder_outputs: tf.Tensor) -> tf.Tensor:
        """(B, S) scores of the decoder state (B, H) against each encoder output (B, S, H)."""
        if self.method == "dot":
            return tf.reduce_sum(hidden[:, None] * encoder_outputs, -1)
        if self.method == "general":  # h^T (W hbar_s) = (W^T h)^T hbar_s: W meets the state, not every output
            if not self.attn.built:
                self.attn.build(encoder_outputs.shape)
            return tf.linalg.matvec(encoder_outputs, tf.matmul(hidden, self.attn.kernel, transpose_b=True))
        expanded = tf.broadcast_to(hidden[:, None], tf.shape(encoder_outputs))
        return self.v(tf.tanh(self.attn(tf.concat([expanded, encoder_outputs], -1))))[..., 0]

    def call(self, token: tf.Tensor, hidden: tf.Tensor, encoder_outputs: tf.Tensor,
             source_mask: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        hidden, _ = self.gru(self.embedding(token), hidden)  # (B, H): the GRU first, then attention
        scores = self.score(hidden, encoder_outputs)
        scores = tf.where(source_mask, scores, tf.constant(-1e9, scores.dtype))
        weights = tf.nn.softmax(scores, -1)  # (B, S), zero on padding
        context = tf.matmul(weights[:, None], encoder_outputs)[:, 0]  # (B, H)
        x = tf.tanh(self.concat(tf.concat([hidden, context], -1)))
        return tf.nn.log_softmax(self.out(x), -1), hidden, weights


def masked_nll(log_probs: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """Mean negative log-likelihood of the target tokens (B, T) under log_probs (B, T, V), padding left out."""
    mask = tf.cast(targets != PAD, log_probs.dtype)
    picked = tf.gather(log_probs, targets, batch_dims=2)  # (B, T)
    return -tf.reduce_sum(picked * mask) / tf.reduce_sum(mask)


def decode_loss(encoder: EncoderRNN, decoder: keras.Model, source: tf.Tensor, lengths: tf.Tensor,
                target: tf.Tensor, teacher_forcing: tf.Tensor) -> tf.Tensor:
    """Encode, then decode ``target``'s length step by step; the masked NLL of the target.

    ``teacher_forcing[t]`` (a boolean per step): feed the true token ``target[:, t]`` to the
    next step, else the decoder's own best guess (no gradient flows through a guess).
    """
    encoder_outputs, hidden = encoder(source, lengths)
    mask = source_mask(lengths, source.shape[1])
    token = tf.fill(tf.shape(target[:, 0]), tf.constant(SOS, target.dtype))
    steps = []
    for t in range(target.shape[1]):
        log_probs, hidden, _ = decoder(token, hidden, encoder_outputs, mask)
        steps.append(log_probs)
        token = tf.where(teacher_forcing[t], target[:, t], tf.argmax(log_probs, -1, output_type=target.dtype))
    return masked_nll(tf.stack(steps, 1), target)


def greedy_decode(encoder: EncoderRNN, decoder: keras.Model, source: tf.Tensor, lengths: tf.Tensor,
                  max_length: int = 10) -> tuple[tf.Tensor, tf.Tensor | None]:
    """The most likely token at each step, fed back, for ``max_length`` steps: tokens (B, max_length)
    and attention weights (B, max_length, S) (None for the plain decoder). Cut each row at its EOS."""
    encoder_outputs, hidden = encoder(source, lengths)
    mask = source_mask(lengths, source.shape[1])
    token = tf.fill(tf.shape(lengths), tf.constant(SOS, tf.int32))
    tokens, attention = [], []
    for _ in range(max_length):
        log_probs, hidden, weights = decoder(token, hidden, encoder_outputs, mask)
        token = tf.argmax(log_probs, -1, output_type=tf.int32)
        tokens.append(token)
        attention.append(weights)
    weights = None if attention[0] is None else tf.stack(attention, 1)
    return tf.stack(tokens, 1), weights
