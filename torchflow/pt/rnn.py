"""Recurrent networks of the RNN chapter -- the PyTorch twin.

Four models, each a one-layer recurrent module (``nn.RNN``, ``nn.GRU`` or
``nn.LSTM``, chosen by ``cell``) followed by a dense layer. Inputs are
batch-first in both twins, so that they take the same arrays.

Initialisation, the same in both twins: PyTorch's recurrent layer is given
Keras' default scheme by :func:`torchflow.pt.layers.keras_recurrent_init` (Glorot
input kernel, orthogonal recurrent kernel, zero biases, LSTM forget bias 1, the
second bias of the LSTM and the plain RNN frozen at zero: Keras has one); dense
layers are Glorot uniform with zero biases; embeddings U(-0.05, 0.05).

    SurnameClassifier  one-hot letters (B, T, L) -> rnn -> last *real* step (B, H) -> dense -> (B, languages)
    SurnameGenerator   [one-hot letter, one-hot language] (B, T, L + N) -> rnn (B, T, H) -> dense -> (B, T, L)
    RowLSTM            image (B, 28, 28): 28 rows as 28 steps -> lstm -> last step (B, H) -> dense -> (B, 10)
    CharRNN            characters (B, T) -> embedding (B, T, E) -> rnn (B, T, H) -> dense -> (B, T, vocabulary)
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from torchflow.pt.layers import glorot, keras_recurrent_init

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def recurrent_layer(cell: str, input_dim: int, hidden_dim: int) -> nn.Module:
    """A one-layer, batch-first ``nn.RNN``/``nn.GRU``/``nn.LSTM`` with Keras' initialisation."""
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; use one of {', '.join(CELLS)}")
    if input_dim < 1 or hidden_dim < 1:
        raise ValueError(f"input_dim and hidden_dim must be >= 1, got {input_dim} and {hidden_dim}")
    return keras_recurrent_init(CELLS[cell](input_dim, hidden_dim, batch_first=True))


def last_hidden(state) -> torch.Tensor:
    """The last hidden state (B, H) from a recurrent module's final state ((h, c) for an LSTM)."""
    return (state[0] if isinstance(state, tuple) else state)[-1]


def detach_state(state):
    """A recurrent state with its values kept and its graph cut (truncated backpropagation through time):
    an LSTM's ``(h, c)`` pair or a GRU's / RNN's one tensor."""
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over the time steps of each sequence, averaged over the sequences.

    ``targets`` (B, T) hold -1 at padded steps, which add nothing.
    """
    mask = (targets >= 0).to(logits.dtype)
    per_step = nn.functional.cross_entropy(logits.transpose(1, 2), targets.clamp(min=0), reduction="none")
    return (per_step * mask).sum(1).mean()


class SurnameClassifier(nn.Module):
    def __init__(self, num_letters: int = 57, num_classes: int = 18, hidden_dim: int = 128,
                 cell: str = "gru") -> None:
        super().__init__()
        self.rnn = recurrent_layer(cell, num_letters, hidden_dim)
        self.fc = glorot(nn.Linear(hidden_dim, num_classes))

    def forward(self, letters: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, classes) of one-hot names (B, T, L); ``lengths`` (B,) of a padded batch."""
        if lengths is None:  # every name fills all T steps
            _, state = self.rnn(letters)
        else:  # packing: the recurrence stops at each name's last real letter
            packed = pack_padded_sequence(letters, torch.as_tensor(lengths).cpu(), batch_first=True,
                                          enforce_sorted=False)
            _, state = self.rnn(packed)
        return self.fc(last_hidden(state))


class SurnameGenerator(nn.Module):
    def __init__(self, num_letters: int = 58, num_languages: int = 18, hidden_dim: int = 128,
                 cell: str = "gru") -> None:
        super().__init__()
        self.num_languages = num_languages
        self.rnn = recurrent_layer(cell, num_letters + num_languages, hidden_dim)
        self.fc = glorot(nn.Linear(hidden_dim, num_letters))

    def forward(self, letters: torch.Tensor, languages: torch.Tensor, state=None):
        """Next-letter logits (B, T, L) and the final state; the language is an input at *every* step."""
        language = nn.functional.one_hot(torch.as_tensor(languages), self.num_languages).to(letters.dtype)
        steps = language[:, None].expand(-1, letters.shape[1], -1)  # (B, T, N)
        outputs, state = self.rnn(torch.cat([letters, steps], dim=2), state)
        return self.fc(outputs), state

    def next_letter_loss(self, letters: torch.Tensor, languages: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of each next letter (end-of-name included), summed over a name's steps."""
        return sequence_loss(self(letters, languages)[0], targets)


class RowLSTM(nn.Module):
    def __init__(self, input_dim: int = 28, hidden_dim: int = 128, num_classes: int = 10) -> None:
        super().__init__()
        self.lstm = recurrent_layer("lstm", input_dim, hidden_dim)
        self.fc = glorot(nn.Linear(hidden_dim, num_classes))

    def hidden_states(self, images: torch.Tensor, unrolled: bool = False) -> torch.Tensor:
        """Hidden state after each row (B, 28, H): the fused layer, or the loop written out."""
        if not unrolled:
            return self.lstm(images)[0]
        weight_ih, weight_hh = self.lstm.weight_ih_l0, self.lstm.weight_hh_l0
        bias = self.lstm.bias_ih_l0 + self.lstm.bias_hh_l0
        h = c = images.new_zeros(images.shape[0], weight_hh.shape[1])
        states = []
        for row in images.unbind(1):  # 28 steps of (B, 28)
            i, f, g, o = (row @ weight_ih.T + h @ weight_hh.T + bias).chunk(4, dim=1)  # gate order i, f, g, o
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            states.append(h)
        return torch.stack(states, dim=1)

    def forward(self, images: torch.Tensor, unrolled: bool = False) -> torch.Tensor:
        return self.fc(self.hidden_states(images, unrolled)[:, -1])  # the last row's hidden state -> (B, 10)


class CharRNN(nn.Module):
    def __init__(self, vocab_size: int = 80, embedding_dim: int = 32, hidden_dim: int = 256,
                 cell: str = "lstm") -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)  # Keras' default for Embedding
        self.rnn = recurrent_layer(cell, embedding_dim, hidden_dim)
        self.fc = glorot(nn.Linear(hidden_dim, vocab_size))

    def forward(self, chars: torch.Tensor, state=None):
        """Next-character logits (B, T, V) and the final state, to carry into the next batch."""
        outputs, state = self.rnn(self.embedding(chars), state)
        return self.fc(outputs), state
