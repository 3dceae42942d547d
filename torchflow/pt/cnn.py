"""The convolutional classifier of the CIFAR-10 tutorial -- the PyTorch twin.

Two convolution + max-pool stages and two dense layers, with the tutorial's
defaults (6 and 16 filters of 5x5, 120 hidden units). Widen it with
``channels`` and ``hidden_dim``; ``dropout`` acts only in training mode.

Initialisation, the same in both twins and declared here rather than left to
each framework's default (PyTorch's is a uniform with a = sqrt(5) and uniform
biases, Keras' Glorot uniform with zero biases): Glorot (Xavier) uniform
weights, U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), and zero biases.

    image (B, 3, 32, 32) -> conv 5x5, 6  -> relu -> max-pool 2 -> (B, 6, 14, 14)
                         -> conv 5x5, 16 -> relu -> max-pool 2 -> (B, 16, 5, 5)
                         -> flatten (B, 400) -> dense 120 -> relu -> dropout -> dense 10 (logits)
"""

from __future__ import annotations

import torch
from torch import nn

from torchflow.pt.layers import glorot


def feature_size(image_size: int) -> int:
    """Side of the feature maps after two (valid 5x5 conv, 2x2 pool) stages: 32 -> 5, 28 -> 4."""
    return ((image_size - 4) // 2 - 4) // 2


class ConvNet(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 3, channels: tuple[int, int] = (6, 16),
                 hidden_dim: int = 120, image_size: int = 32, dropout: float = 0.0) -> None:
        super().__init__()
        self.conv1 = glorot(nn.Conv2d(in_channels, channels[0], kernel_size=5))
        self.conv2 = glorot(nn.Conv2d(channels[0], channels[1], kernel_size=5))
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = glorot(nn.Linear(channels[1] * feature_size(image_size) ** 2, hidden_dim))
        self.dropout = nn.Dropout(dropout)
        self.fc2 = glorot(nn.Linear(hidden_dim, num_classes))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.conv1(images)))  # (B, 6, 14, 14)
        x = self.pool(torch.relu(self.conv2(x)))  # (B, 16, 5, 5)
        x = torch.relu(self.fc1(self.flatten(x)))  # (B, 120)
        return self.fc2(self.dropout(x))  # (B, 10)
