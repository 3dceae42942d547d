"""N-gram language model, CBOW and skip-gram: three ways to learn word embeddings -- the PyTorch twin.

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

import torch
from torch import nn

from torchflow.pt.layers import embedding, glorot


class NGramLM(nn.Module):
    def __init__(self, vocab_size: int, embedding_dim: int = 10, context_size: int = 2,
                 hidden_dim: int = 128) -> None:
        super().__init__()
        if context_size < 1 or hidden_dim < 1:
            raise ValueError(f"context_size and hidden_dim must be >= 1, got {context_size} and {hidden_dim}")
        self.context_size = context_size
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.linear1 = glorot(nn.Linear(context_size * embedding_dim, hidden_dim))
        self.linear2 = glorot(nn.Linear(hidden_dim, vocab_size))

    def activations(self, context: torch.Tensor) -> dict[str, torch.Tensor]:
        embedded = self.embeddings(context)  # (B, 2, 10)
        flat = embedded.reshape(len(context), -1)  # (B, 20)
        hidden = torch.relu(self.linear1(flat))  # (B, 128)
        return {"context": context, "embedded": embedded, "flattened": flat, "hidden": hidden,
                "logits": self.linear2(hidden)}  # (B, V)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        return self.activations(context)["logits"]


class CBOW(nn.Module):
    def __init__(self, vocab_size: int, embedding_dim: int = 10, context_size: int = 2) -> None:
        super().__init__()
        if context_size < 1:
            raise ValueError(f"context_size must be >= 1, got {context_size}")
        self.context_size = context_size
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.linear = glorot(nn.Linear(embedding_dim, vocab_size))

    def activations(self, context: torch.Tensor) -> dict[str, torch.Tensor]:
        embedded = self.embeddings(context)  # (B, 2, 10)
        mean = embedded.mean(1)  # (B, 10): the bag of context words, order forgotten
        return {"context": context, "embedded": embedded, "mean": mean, "logits": self.linear(mean)}

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        return self.activations(context)["logits"]


class SkipGram(nn.Module):
    def __init__(self, vocab_size: int, embedding_dim: int = 10) -> None:
        super().__init__()
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.linear = glorot(nn.Linear(embedding_dim, vocab_size))

    def activations(self, center: torch.Tensor) -> dict[str, torch.Tensor]:
        embedded = self.embeddings(center)  # (B, 10)
        return {"center": center, "embedded": embedded, "logits": self.linear(embedded)}

    def forward(self, center: torch.Tensor) -> torch.Tensor:
        return self.activations(center)["logits"]
