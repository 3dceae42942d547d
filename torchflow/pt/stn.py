"""A spatial transformer network in front of a small classifier -- the PyTorch twin.

A localisation network looks at the image and regresses the six numbers of an
affine map :math:`\\theta` (a 2x3 matrix, initialised to the identity). The grid
generator maps every output pixel's normalised coordinates :math:`(x^t, y^t)`
in [-1, 1] to a source point, :math:`(x^s, y^s)^\\top = \\theta\\,(x^t, y^t, 1)^\\top`,
and the bilinear sampler reads the input there:

.. math::

   V_i = \\sum_n \\sum_m U_{nm}\\, \\max(0, 1 - |x^s_i - m|)\\, \\max(0, 1 - |y^s_i - n|)

(with the source point in pixel units). PyTorch provides both steps:
``F.affine_grid`` and ``F.grid_sample``. The classifier then sees the
transformed image. Dropout is active in ``train()`` mode only.

Initialisation, the same in both twins (declared, not each framework's
default): Glorot uniform weights and zero biases (see :mod:`torchflow.pt.layers`),
except the localiser's last layer: zero weights and the identity as its bias,
so that training starts from theta = identity.

    image (B, 1, 28, 28) -> localisation: conv 7x7, 8 -> pool -> relu -> conv 5x5, 10 -> pool -> relu
                         -> (B, 10, 3, 3) -> flatten -> dense 32 -> relu -> dense 6 -> theta (B, 2, 3)
    image, theta -> affine grid (B, 28, 28, 2) -> bilinear sample -> (B, 1, 28, 28)
                 -> conv 5x5, 10 -> pool -> relu -> conv 5x5, 20 -> channel dropout -> pool -> relu
                 -> (B, 20, 4, 4) -> flatten -> dense 50 -> relu -> dropout -> dense 10 (logits)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from torchflow.pt.layers import glorot

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)  # theta, row by row


def affine_grid(theta: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Source points (B, height, width, 2), as (x, y) in [-1, 1], of the output pixels' centres."""
    return F.affine_grid(theta, [theta.shape[0], 1, height, width], align_corners=False)


def grid_sample(images: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Bilinear sampling of (B, C, H, W) images at ``grid``; points outside the image read zero."""
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class STNClassifier(nn.Module):
    def __init__(self, num_classes: int = 10, use_stn: bool = True, dropout: float = 0.5,
                 image_size: int = 28) -> None:
        super().__init__()
        self.use_stn = use_stn
        if use_stn:  # localisation network: where to look
            self.loc_conv1 = glorot(nn.Conv2d(1, 8, kernel_size=7))
            self.loc_conv2 = glorot(nn.Conv2d(8, 10, kernel_size=5))
            self.loc_fc1 = glorot(nn.Linear(10 * (((image_size - 6) // 2 - 4) // 2) ** 2, 32))
            self.loc_fc2 = nn.Linear(32, 6)
            nn.init.zeros_(self.loc_fc2.weight)  # start from the identity map
            with torch.no_grad():
                self.loc_fc2.bias.copy_(torch.tensor(IDENTITY))
        # classifier
        self.conv1 = glorot(nn.Conv2d(1, 10, kernel_size=5))
        self.conv2 = glorot(nn.Conv2d(10, 20, kernel_size=5))
        self.channel_dropout = nn.Dropout2d(dropout)
        self.fc1 = glorot(nn.Linear(20 * (((image_size - 4) // 2 - 4) // 2) ** 2, 50))
        self.dropout = nn.Dropout(dropout)
        self.fc2 = glorot(nn.Linear(50, num_classes))
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()

    def localise(self, images: torch.Tensor) -> torch.Tensor:
        """The affine map theta (B, 2, 3) for each image."""
        x = torch.relu(self.pool(self.loc_conv1(images)))  # (B, 8, 11, 11)
        x = torch.relu(self.pool(self.loc_conv2(x)))  # (B, 10, 3, 3)
        x = torch.relu(self.loc_fc1(self.flatten(x)))  # (B, 32)
        return self.loc_fc2(x).view(-1, 2, 3)

    def transform(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The images the classifier sees, and theta (the identity without an STN)."""
        if not self.use_stn:
            return images, torch.tensor(IDENTITY, device=images.device).view(1, 2, 3).expand(len(images), 2, 3)
        theta = self.localise(images)
        grid = affine_grid(theta, images.shape[2], images.shape[3])
        return grid_sample(images, grid), theta

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x, _ = self.transform(images)
        x = torch.relu(self.pool(self.conv1(x)))  # (B, 10, 12, 12)
        x = torch.relu(self.pool(self.channel_dropout(self.conv2(x))))  # (B, 20, 4, 4)
        x = torch.relu(self.fc1(self.flatten(x)))  # (B, 50)
        return self.fc2(self.dropout(x))  # (B, 10)
