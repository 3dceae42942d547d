"""LSTM part-of-speech taggers, with and without character features -- the PyTorch twin.

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
the real words do not see it; the backward LSTM is packed to start at each sentence's
last real word). Initialisation, the same in both twins: embedding rows
U(-1, 1), the LSTMs with Keras' scheme (:func:`torchflow.pt.layers.keras_recurrent_init`:
Glorot input kernel, orthogonal recurrent kernel, one bias, forget bias 1), the dense
layer Glorot uniform with zero biases.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from torchflow.pt.layers import check_positive, embedding, glorot, keras_recurrent_init


def word_lstm(input_dim: int, hidden_dim: int, bidirectional: bool) -> nn.LSTM:
    """The sentence-level LSTM, one-way or both ways, with Keras' initialisation."""
    return keras_recurrent_init(nn.LSTM(input_dim, hidden_dim, batch_first=True, bidirectional=bidirectional))


def run_word_lstm(lstm: nn.LSTM, inputs: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
    """States (B, T, H or 2H); a bidirectional LSTM is packed so its backward pass starts at the last real word."""
    if not lstm.bidirectional:
        return lstm(inputs)[0]
    lengths = (words != 0).sum(1).clamp(min=1).cpu()
    packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
    return pad_packed_sequence(lstm(packed)[0], batch_first=True, total_length=inputs.shape[1])[0]


class LSTMTagger(nn.Module):
    def __init__(self, vocab_size: int, tagset_size: int, embedding_dim: int = 6, hidden_dim: int = 16,
                 bidirectional: bool = False) -> None:
        super().__init__()
        check_positive(vocab_size=vocab_size, tagset_size=tagset_size, embedding_dim=embedding_dim,
                       hidden_dim=hidden_dim)
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.lstm = word_lstm(embedding_dim, hidden_dim, bidirectional)
        self.hidden2tag = glorot(nn.Linear(hidden_dim * (2 if bidirectional else 1), tagset_size))

    def activations(self, words: torch.Tensor) -> dict[str, torch.Tensor]:
        embedded = self.embeddings(words)  # (B, T, E)
        hidden = run_word_lstm(self.lstm, embedded, words)  # (B, T, H), or (B, T, 2H) both ways
        return {"words": words, "embedded": embedded, "lstm": hidden, "tag_scores": self.hidden2tag(hidden)}

    def forward(self, words: torch.Tensor) -> torch.Tensor:
        return self.activations(words)["tag_scores"]


class CharLSTMTagger(nn.Module):
    def __init__(self, vocab_size: int, tagset_size: int, alphabet_size: int, embedding_dim: int = 6,
                 hidden_dim: int = 16, char_embedding_dim: int = 3, char_hidden_dim: int = 3,
                 bidirectional: bool = False) -> None:
        super().__init__()
        check_positive(vocab_size=vocab_size, tagset_size=tagset_size, alphabet_size=alphabet_size,
                       embedding_dim=embedding_dim, hidden_dim=hidden_dim, char_embedding_dim=char_embedding_dim,
                       char_hidden_dim=char_hidden_dim)
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.char_embeddings = embedding(alphabet_size, char_embedding_dim)
        self.char_lstm = keras_recurrent_init(nn.LSTM(char_embedding_dim, char_hidden_dim, batch_first=True))
        self.lstm = word_lstm(embedding_dim + char_hidden_dim, hidden_dim, bidirectional)
        self.hidden2tag = glorot(nn.Linear(hidden_dim * (2 if bidirectional else 1), tagset_size))

    def activations(self, words: torch.Tensor, chars: torch.Tensor) -> dict[str, torch.Tensor]:
        batch, length, letters = chars.shape
        char_embedded = self.char_embeddings(chars.reshape(batch * length, letters))  # (B*T, C, e)
        char_states, _ = self.char_lstm(char_embedded)  # (B*T, C, h)
        last = ((chars != 0).sum(-1).reshape(-1) - 1).clamp(min=0)  # each word's last letter
        char_features = char_states[torch.arange(batch * length), last].reshape(batch, length, -1)  # (B, T, h)
        embedded = self.embeddings(words)  # (B, T, E)
        joined = torch.cat([embedded, char_features], -1)  # (B, T, E + h)
        hidden = run_word_lstm(self.lstm, joined, words)  # (B, T, H), or (B, T, 2H) both ways
        return {"words": words, "chars": chars, "char_embedded": char_embedded, "char_lstm": char_states,
                "char_features": char_features, "embedded": embedded, "joined": joined, "lstm": hidden,
                "tag_scores": self.hidden2tag(hidden)}

    def forward(self, words: torch.Tensor, chars: torch.Tensor) -> torch.Tensor:
        return self.activations(words, chars)["tag_scores"]
