"""Encoder-decoder networks for translation and dialogue -- the PyTorch twin.

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
(:func:`torchflow.pt.layers.keras_recurrent_init`: Glorot input kernel, orthogonal recurrent
kernel, zero biases; PyTorch's gate order and two biases are Keras' ``reset_after=True`` GRU,
mapped by :mod:`torchflow.convert`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from torchflow.pt.layers import glorot, keras_recurrent_init

PAD, SOS, EOS = 0, 1, 2
METHODS = ("dot", "general", "concat")


def _embedding(vocab_size: int, hidden_size: int) -> nn.Embedding:
    if vocab_size < 3 or hidden_size < 1:
        raise ValueError(f"vocab_size must be >= 3 (PAD, SOS, EOS) and hidden_size >= 1, "
                         f"got {vocab_size} and {hidden_size}")
    embedding = nn.Embedding(vocab_size, hidden_size)
    nn.init.uniform_(embedding.weight, -0.05, 0.05)
    return embedding


def source_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """(B, steps) booleans: True at the real tokens of each sentence, False at its padding."""
    return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]


def reverse_index(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """(B, steps) positions that reverse each sentence within its length and leave its padding in place."""
    positions = torch.arange(steps, device=lengths.device)[None, :]
    return torch.where(positions < lengths[:, None], lengths[:, None] - 1 - positions, positions)


def _take(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values[b, index[b, t]]`` for (B, S, H) values and (B, S) positions."""
    return torch.gather(values, 1, index[..., None].expand(-1, -1, values.shape[-1]))


class EncoderRNN(nn.Module):
    """Embedding and a one-layer GRU; ``bidirectional`` adds a GRU that reads each sentence backwards,
    and the two directions' outputs (and last states) are summed."""

    def __init__(self, vocab_size: int, hidden_size: int = 128, bidirectional: bool = False) -> None:
        super().__init__()
        self.hidden_size, self.bidirectional = hidden_size, bidirectional
        self.embedding = _embedding(vocab_size, hidden_size)
        self.gru = keras_recurrent_init(nn.GRU(hidden_size, hidden_size, batch_first=True))
        if bidirectional:
            self.backward_gru = keras_recurrent_init(nn.GRU(hidden_size, hidden_size, batch_first=True))

    def _run(self, gru: nn.GRU, embedded: torch.Tensor, stepwise: bool) -> torch.Tensor:
        if not stepwise:
            return gru(embedded)[0]  # every time step in one call: (B, S, H)
        outputs, state = [], None
        for t in range(embedded.shape[1]):  # the original tutorial's loop, one token at a time
            output, state = gru(embedded[:, t : t + 1], state)
            outputs.append(output)
        return torch.cat(outputs, 1)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor,
                stepwise: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """(outputs (B, S, H), zero at padding; hidden (B, H)) for tokens (B, S) of ``lengths`` (B,)."""
        steps, rows = tokens.shape[1], torch.arange(tokens.shape[0], device=tokens.device)
        embedded = self.embedding(tokens)  # (B, S, H)
        outputs = self._run(self.gru, embedded, stepwise)
        hidden = outputs[rows, lengths - 1]  # the state after each sentence's last real token
        if self.bidirectional:
            index = reverse_index(lengths, steps)
            backward = _take(self._run(self.backward_gru, _take(embedded, index), stepwise), index)
            outputs, hidden = outputs + backward, hidden + backward[:, 0]
        return outputs * source_mask(lengths, steps)[..., None].to(outputs.dtype), hidden


class DecoderRNN(nn.Module):
    """The plain decoder: the source reaches it only through the initial hidden state."""

    def __init__(self, vocab_size: int, hidden_size: int = 128) -> None:
        super().__init__()
        self.embedding = _embedding(vocab_size, hidden_size)
        self.gru = keras_recurrent_init(nn.GRUCell(hidden_size, hidden_size))
        self.out = glorot(nn.Linear(hidden_size, vocab_size))

    def forward(self, token: torch.Tensor, hidden: torch.Tensor, encoder_outputs: torch.Tensor | None = None,
                source_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, None]:
        hidden = self.gru(F.relu(self.embedding(token)), hidden)  # (B, H)
        return F.log_softmax(self.out(hidden), -1), hidden, None


class AttnDecoderRNN(nn.Module):
    """Location-based attention (the original tutorial's): weights from the embedded token and the state only."""

    def __init__(self, vocab_size: int, hidden_size: int = 128, max_length: int = 10) -> None:
        super().__init__()
        if max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {max_length}")
        self.max_length = max_length
        self.embedding = _embedding(vocab_size, hidden_size)
        self.attn = glorot(nn.Linear(2 * hidden_size, max_length))
        self.attn_combine = glorot(nn.Linear(2 * hidden_size, hidden_size))
        self.gru = keras_recurrent_init(nn.GRUCell(hidden_size, hidden_size))
        self.out = glorot(nn.Linear(hidden_size, vocab_size))

    def forward(self, token: torch.Tensor, hidden: torch.Tensor, encoder_outputs: torch.Tensor,
                source_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if encoder_outputs.shape[1] != self.max_length:
            raise ValueError(f"AttnDecoderRNN attends over max_length={self.max_length} positions; pad the "
                             f"source to that length (got {encoder_outputs.shape[1]})")
        embedded = self.embedding(token)  # (B, H)
        weights = F.softmax(self.attn(torch.cat([embedded, hidden], -1)), -1)  # (B, L): no encoder output compared
        applied = torch.bmm(weights[:, None], encoder_outputs)[:, 0]  # (B, 1, L) x (B, L, H) -> (B, H)
        x = F.relu(self.attn_combine(torch.cat([embedded, applied], -1)))
        hidden = self.gru(x, hidden)
        return F.log_softmax(self.out(hidden), -1), hidden, weights


class BahdanauAttnDecoderRNN(nn.Module):
    """Additive attention: the previous state is compared with each encoder output through a tanh layer."""

    def __init__(self, vocab_size: int, hidden_size: int = 128) -> None:
        super().__init__()
        self.embedding = _embedding(vocab_size, hidden_size)
        self.Wa = glorot(nn.Linear(hidden_size, hidden_size))  # the query: the decoder's previous state
        self.Ua = glorot(nn.Linear(hidden_size, hidden_size))  # the keys: every encoder output
        self.Va = glorot(nn.Linear(hidden_size, 1, bias=False))  # a bias here would shift every score alike
        self.gru = keras_recurrent_init(nn.GRUCell(2 * hidden_size, hidden_size))
        self.out = glorot(nn.Linear(hidden_size, vocab_size))

    def score(self, hidden: torch.Tensor, encoder_outputs: torch.Tensor) -> torch.Tensor:
        """(B, S) scores ``v^T tanh(W_a h + U_a hbar_s)`` of the state (B, H) against the outputs (B, S, H)."""
        return self.Va(torch.tanh(self.Wa(hidden)[:, None] + self.Ua(encoder_outputs)))[..., 0]

    def forward(self, token: torch.Tensor, hidden: torch.Tensor, encoder_outputs: torch.Tensor,
                source_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        scores = self.score(hidden, encoder_outputs)
        scores = scores.masked_fill(~source_mask, -1e9)
        weights = F.softmax(scores, -1)  # attention first, then the GRU: (B, S), zero on padding
        context = torch.bmm(weights[:, None], encoder_outputs)[:, 0]  # (B, H)
        hidden = self.gru(torch.cat([self.embedding(token), context], -1), hidden)
        return F.log_softmax(self.out(hidden), -1), hidden, weights


class LuongAttnDecoderRNN(nn.Module):
    """Luong global attention: content-based scores between the decoder state and each encoder output."""

    def __init__(self, vocab_size: int, hidden_size: int = 128, method: str = "general") -> None:
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"unknown attention method {method!r}; use one of {', '.join(METHODS)}")
        self.method = method
        self.embedding = _embedding(vocab_size, hidden_size)
        self.gru = keras_recurrent_init(nn.GRUCell(hidden_size, hidden_size))
        if method == "general":
            self.attn = glorot(nn.Linear(hidden_size, hidden_size, bias=False))
        elif method == "concat":
            self.attn = glorot(nn.Linear(2 * hidden_size, hidden_size, bias=False))
            self.v = glorot(nn.Linear(hidden_size, 1, bias=False))
        self.concat = glorot(nn.Linear(2 * hidden_size, hidden_size))
        self.out = glorot(nn.Linear(hidden_size, vocab_size))

    def score(self, hidden: torch.Tensor, encoder_outputs: torch.Tensor) -> torch.Tensor:
        """(B, S) scores of the decoder state (B, H) against each encoder output (B, S, H)."""
        if self.method == "dot":
            return (hidden[:, None] * encoder_outputs).sum(-1)
        if self.method == "general":  # h^T (W hbar_s) = (W^T h)^T hbar_s: W meets the state, not every output
            return torch.bmm(encoder_outputs, (hidden @ self.attn.weight)[..., None])[..., 0]
        expanded = hidden[:, None].expand(-1, encoder_outputs.shape[1], -1)
        return self.v(torch.tanh(self.attn(torch.cat([expanded, encoder_outputs], -1))))[..., 0]

    def forward(self, token: torch.Tensor, hidden: torch.Tensor, encoder_outputs: torch.Tensor,
                source_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        hidden = self.gru(self.embedding(token), hidden)  # (B, H): the GRU first, then attention
        scores = self.score(hidden, encoder_outputs).masked_fill(~source_mask, -1e9)
        weights = F.softmax(scores, -1)  # (B, S), zero on padding
        context = torch.bmm(weights[:, None], encoder_outputs)[:, 0]  # (B, H)
        x = torch.tanh(self.concat(torch.cat([hidden, context], -1)))
        return F.log_softmax(self.out(x), -1), hidden, weights


def masked_nll(log_probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood of the target tokens (B, T) under log_probs (B, T, V), padding left out."""
    mask = (targets != PAD).to(log_probs.dtype)
    picked = torch.gather(log_probs, 2, targets[..., None])[..., 0]  # (B, T)
    return -(picked * mask).sum() / mask.sum()


def decode_loss(encoder: EncoderRNN, decoder: nn.Module, source: torch.Tensor, lengths: torch.Tensor,
                target: torch.Tensor, teacher_forcing: torch.Tensor) -> torch.Tensor:
    """Encode, then decode ``target``'s length step by step; the masked NLL of the target.

    ``teacher_forcing[t]`` (a boolean per step): feed the true token ``target[:, t]`` to the
    next step, else the decoder's own best guess (no gradient flows through a guess).
    """
    encoder_outputs, hidden = encoder(source, lengths)
    mask = source_mask(lengths, source.shape[1])
    token = torch.full_like(target[:, 0], SOS)
    steps = []
    for t in range(target.shape[1]):
        log_probs, hidden, _ = decoder(token, hidden, encoder_outputs, mask)
        steps.append(log_probs)
        token = torch.where(teacher_forcing[t], target[:, t], log_probs.argmax(-1))
    return masked_nll(torch.stack(steps, 1), target)


@torch.no_grad()
def greedy_decode(encoder: EncoderRNN, decoder: nn.Module, source: torch.Tensor, lengths: torch.Tensor,
                  max_length: int = 10) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The most likely token at each step, fed back, for ``max_length`` steps: tokens (B, max_length)
    and attention weights (B, max_length, S) (None for the plain decoder). Cut each row at its EOS."""
    encoder_outputs, hidden = encoder(source, lengths)
    mask = source_mask(lengths, source.shape[1])
    token = torch.full_like(lengths, SOS)
    tokens, attention = [], []
    for _ in range(max_length):
        log_probs, hidden, weights = decoder(token, hidden, encoder_outputs, mask)
        token = log_probs.argmax(-1)
        tokens.append(token)
        attention.append(weights)
    weights = None if attention[0] is None else torch.stack(attention, 1)
    return torch.stack(tokens, 1), weights
