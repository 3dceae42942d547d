"""A small convolutional classifier of 28x28 images -- the PyTorch twin.

Used as the book's *judge*: it scores generated images (label accuracy of
conditional samples, Fréchet distance in its feature space).

Initialisation, the same in both twins: Glorot uniform weights and zero biases
(declared; see :mod:`torchflow.pt.layers`).

    image (B, 1, 28, 28) -> conv 3x3, 16 -> relu -> max-pool 2   -> (B, 16, 14, 14)
                         -> conv 3x3, 32 -> relu -> max-pool 2   -> (B, 32, 7, 7)
                         -> flatten -> dense 128 -> relu (features) -> dense 10 (logits)
"""

from __future__ import annotations

import torch
from torch import nn

from torchflow.pt.layers import glorot


class JudgeNet(nn.Module):
    def __init__(self, num_classes: int = 10, channels: tuple[int, int] = (16, 32),
                 hidden_dim: int = 128, image_size: int = 28) -> None:
        super().__init__()
        self.conv1 = glorot(nn.Conv2d(1, channels[0], kernel_size=3, padding=1))
        self.conv2 = glorot(nn.Conv2d(channels[0], channels[1], kernel_size=3, padding=1))
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = glorot(nn.Linear(channels[1] * (image_size // 4) ** 2, hidden_dim))
        self.fc2 = glorot(nn.Linear(hidden_dim, num_classes))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The (B, hidden_dim) representation before the last layer."""
        x = self.pool(torch.relu(self.conv1(images)))
        x = self.pool(torch.relu(self.conv2(x)))
        return torch.relu(self.fc1(self.flatten(x)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.features(images))
