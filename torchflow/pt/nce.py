"""Skip-gram with a sampled loss: noise-contrastive estimation (NCE) or negative sampling -- the PyTorch twin.

The full softmax over a vocabulary of V words costs a (B, D) x (D, V) product per
step. NCE instead turns each (word, context) pair into a binary question: is the
context word the true one, or one of ``S`` noise words drawn from a known
distribution Q? The logit of a candidate ``w`` for the input vector ``e`` is
corrected by the log of how often the sampler is expected to draw it::

    s(w) = e . u_w + b_w - log(S Q(w))
    loss = -log sigmoid(s(true word)) - sum over the S sampled words of log(1 - sigmoid(s(w)))

This is what ``tf.nn.nce_loss`` computes (``subtract_log_q=True``), written out
here with the same sampled words passed in, so that the twins compute the same
number. The output table ``nce`` (weights (V, D) and biases (V,)) is a dense layer:
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

import torch
from torch import nn
from torch.nn import functional as F

from torchflow.pt.layers import embedding, glorot


class SkipGramNCE(nn.Module):
    def __init__(self, vocab_size: int, embedding_dim: int = 2) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embeddings = embedding(vocab_size, embedding_dim)
        self.nce = glorot(nn.Linear(embedding_dim, vocab_size))  # weight (V, D): one output vector per word

    def activations(self, center: torch.Tensor) -> dict[str, torch.Tensor]:
        embedded = self.embeddings(center)  # (B, D)
        return {"center": center, "embedded": embedded, "logits": self.nce(embedded)}  # full softmax (B, V)

    def forward(self, center: torch.Tensor) -> torch.Tensor:
        return self.embeddings(center)

    def nce_loss(self, center: torch.Tensor, context: torch.Tensor, sampled: torch.Tensor,
                 true_expected: torch.Tensor, sampled_expected: torch.Tensor) -> torch.Tensor:
        """Mean NCE loss of the pairs (center, context) against the ``sampled`` noise words (shared by
        the batch); ``true_expected`` (B,) and ``sampled_expected`` (S,) are S Q(w) of those words."""
        embedded = self.embeddings(center)  # (B, D)
        weight, bias = self.nce.weight, self.nce.bias
        true_logits = (embedded * weight[context]).sum(1) + bias[context] - torch.log(true_expected)  # (B,)
        sampled_logits = embedded @ weight[sampled].T + bias[sampled] - torch.log(sampled_expected)  # (B, S)
        # sigmoid cross-entropy: label 1 for the true word, 0 for each sampled one
        return (F.softplus(-true_logits) + F.softplus(sampled_logits).sum(1)).mean()

    def softmax_loss(self, center: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """The full softmax's cross-entropy over all V words, with the same weights."""
        return F.cross_entropy(self.nce(self.embeddings(center)), context)

    def sgns_loss(self, center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        """Mean negative-sampling loss of the pairs (center, context) against ``negatives`` (B, K), K noise
        words for each pair."""
        embedded = self.embeddings(center)  # (B, D)
        weight = self.nce.weight
        positive = (embedded * weight[context]).sum(1)  # (B,)
        negative = torch.einsum("bd,bkd->bk", embedded, weight[negatives])  # (B, K)
        # -log sigmoid(x) = softplus(-x); -log sigmoid(-x) = softplus(x)
        return (F.softplus(-positive) + F.softplus(negative).sum(1)).mean()
