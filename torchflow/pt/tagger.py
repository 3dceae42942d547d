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

Id 0 pads words and characters (padding goes at the end: a one-way LSTM's states at
the real words do not see it). Initialisation, the same in both twins: embedding rows
U(-1, 1), the LSTMs with Keras' scheme (:func:`torchflow.pt.layers.keras_recurrent_init`:
Glorot input kernel, orthogonal recurrent kernel, one bias, forget bias 1), the dense
layer Glorot uniform with zero biases.
"""

from __future__ import annotations

import torch
from torch import nn

from torchflow.pt.layers import check_positive, embedding, glorot, keras_recurrent_init


class LSTMTagger(nn.Module):
    def __init__(self, vocab_size: int, tagset_size: int, embedding_dim: int = 6, hidden_dim: int = 16) -> None:
        super().__init__()
        check_positive(vocab_size=vocab_size, tagset_size=tagset_size, embedding_dim=embedding_dim,
                       hidden_dim=hidden_dim)
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.lstm = keras_recurrent_init(nn.LSTM(embedding_dim, hidden_dim, batch_first=True))
        self.hidden2tag = glorot(nn.Linear(hidden_dim, tagset_size))

    def activations(self, words: torch.Tensor) -> dict[str, torch.Tensor]:
        embedded = self.embeddings(words)  # (B, T, E)
        hidden, _ = self.lstm(embedded)  # (B, T, H)
        return {"words": words, "embedded": embedded, "lstm": hidden, "tag_scores": self.hidden2tag(hidden)}

    def forward(self, words: torch.Tensor) -> torch.Tensor:
        return self.activations(words)["tag_scores"]


class CharLSTMTagger(nn.Module):
    def __init__(self, vocab_size: int, tagset_size: int, alphabet_size: int, embedding_dim: int = 6,
                 hidden_dim: int = 16, char_embedding_dim: int = 3, char_hidden_dim: int = 3) -> None:
        super().__init__()
        check_positive(vocab_size=vocab_size, tagset_size=tagset_size, alphabet_size=alphabet_size,
                       embedding_dim=embedding_dim, hidden_dim=hidden_dim, char_embedding_dim=char_embedding_dim,
                       char_hidden_dim=char_hidden_dim)
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.char_embeddings = embedding(alphabet_size, char_embedding_dim)
        self.char_lstm = keras_recurrent_init(nn.LSTM(char_embedding_dim, char_hidden_dim, batch_first=True))
        self.lstm = keras_recurrent_init(nn.LSTM(embedding_dim + char_hidden_dim, hidden_dim, batch_first=True))
        self.hidden2tag = glorot(nn.Linear(hidden_dim, tagset_size))

    def activations(self, words: torch.Tensor, chars: torch.Tensor) -> dict[str, torch.Tensor]:
        batch, length, letters = chars.shape
        char_embedded = self.char_embeddings(chars.reshape(batch * length, letters))  # (B*T, C, e)
        char_states, _ = self.char_lstm(char_embedded)  # (B*T, C, h)
        last = ((chars != 0).sum(-1).reshape(-1) - 1).clamp(min=0)  # each word's last letter
        char_features = char_states[torch.arange(batch * length), last].reshape(batch, length, -1)  # (B, T, h)
        embedded = self.embeddings(words)  # (B, T, E)
        joined = torch.cat([embedded, char_features], -1)  # (B, T, E + h)
        hidden, _ = self.lstm(joined)  # (B, T, H)
        return {"words": words, "chars": chars, "char_embedded": char_embedded, "char_lstm": char_states,
                "char_features": char_features, "embedded": embedded, "joined": joined, "lstm": hidden,
                "tag_scores": self.hidden2tag(hidden)}

    def forward(self, words: torch.Tensor, chars: torch.Tensor) -> torch.Tensor:
        return self.activations(words, chars)["tag_scores"]
