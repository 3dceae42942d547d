"""DCGAN (Radford et al., 2016) for small grey images -- the PyTorch twin.

Deep convolutional GAN: the generator climbs from a noise vector to an image
with transposed convolutions, the discriminator goes down with strided
convolutions (no pooling: each learns its own up- and down-sampling), batch
norm in both, ReLU and tanh in the generator, LeakyReLU(0.2) in the
discriminator. Sized for 28x28 images and a CPU: two stride-2 levels instead of
the four of the notes' 64x64 faces, widths set by ``channels`` (c).

Initialisation, the DCGAN paper's, declared in both twins: every convolution's
weights N(0, 0.02) (the notes write N(0, 0.2): a slip; 0.02 is the paper's),
batch-norm scales N(1, 0.02) and shifts 0; no convolution has a bias (the batch
norm after it, or the loss, absorbs it). Batch norm: PyTorch's ``momentum=0.1``
is Keras' ``momentum=0.9``, epsilon 1e-5 in both (Keras' default is 1e-3), and the
running variance is the unbiased one in both (the Keras twin's ``BatchNorm``).

The discriminator returns a *logit* per image; the losses apply the sigmoid
inside the binary cross-entropy (``binary_cross_entropy_with_logits``), which
is the notes' ``Sigmoid`` + ``BCELoss`` computed without overflow. One training
step (:func:`train_step`) is a D step, then a G step through the updated D.

    generator:     z (B, 100) -> (B, 100, 1, 1) -> conv-T 7x7      (B, 4c, 7, 7)   BN, ReLU
                              -> conv-T 4x4/2  (B, 2c, 14, 14) BN, ReLU
                              -> conv-T 4x4/2  (B, 1, 28, 28)  tanh
    discriminator: x (B, 1, 28, 28) -> conv 4x4/2 (B, 2c, 14, 14) LeakyReLU
                              -> conv 4x4/2  (B, 4c, 7, 7) BN, LeakyReLU
                              -> conv 7x7    (B, 1, 1, 1) -> logit (B,)
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from torchflow.pt.layers import BatchNorm as _batch_norm
from torchflow.pt.layers import normal_weights as _init


def _check(latent_dim: int, channels: int, image_size: int) -> int:
    if latent_dim < 1 or channels < 1:
        raise ValueError(f"latent_dim and channels must be positive, got {latent_dim} and {channels}")
    if image_size < 4 or image_size % 4:
        raise ValueError(f"image_size must be a positive multiple of 4 (two stride-2 levels), got {image_size}")
    return image_size // 4


class Generator(nn.Module):
    def __init__(self, latent_dim: int = 100, channels: int = 32, image_channels: int = 1,
                 image_size: int = 28) -> None:
        super().__init__()
        side = _check(latent_dim, channels, image_size)
        self.latent_dim = latent_dim
        self.main = nn.Sequential(
            # input is z, (latent_dim) x 1 x 1
            nn.ConvTranspose2d(latent_dim, channels * 4, side, 1, 0, bias=False),
            _batch_norm(channels * 4),
            nn.ReLU(),
            # state size. (4c) x 7 x 7
            nn.ConvTranspose2d(channels * 4, channels * 2, 4, 2, 1, bias=False),
            _batch_norm(channels * 2),
            nn.ReLU(),
            # state size. (2c) x 14 x 14
            nn.ConvTranspose2d(channels * 2, image_channels, 4, 2, 1, bias=False),
            nn.Tanh(),
            # state size. (image_channels) x 28 x 28, in [-1, 1]
        )
        self.apply(_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.reshape(len(z), self.latent_dim, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, channels: int = 32, image_channels: int = 1, image_size: int = 28) -> None:
        super().__init__()
        side = _check(1, channels, image_size)
        self.main = nn.Sequential(
            # input is (image_channels) x 28 x 28
            nn.Conv2d(image_channels, channels * 2, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2),
            # state size. (2c) x 14 x 14
            nn.Conv2d(channels * 2, channels * 4, 4, 2, 1, bias=False),
            _batch_norm(channels * 4),
            nn.LeakyReLU(0.2),
            # state size. (4c) x 7 x 7
            nn.Conv2d(channels * 4, 1, side, 1, 0, bias=False),
            # state size. 1 x 1 x 1: a logit
        )
        self.apply(_init)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images).reshape(-1)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """BCE(D(x), 1) + BCE(D(G(z)), 0), each averaged over its batch."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """BCE(D(G(z)), 1): the non-saturating generator loss, -log D(G(z)) averaged."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def train_step(generator: Generator, discriminator: Discriminator,
               optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer],
               real: torch.Tensor, noise: torch.Tensor) -> dict[str, float]:
    """One DCGAN step: D on a real and a generated batch, then G on the same batch through the updated D.

    ``optimizers`` is (the generator's, the discriminator's). Returns both losses and D's mean
    probability that the real batch (``d_real``) and the generated one (``d_fake``) are real, as D
    scored them in its step. ``G(z)`` runs once: the D step scores it ``detach()``-ed, so that
    ``backward`` stops at D's input; the G step's gradient flows through D into G.
    """
    optimizer_g, optimizer_d = optimizers
    fake = generator(noise)
    real_logits, fake_logits = discriminator(real), discriminator(fake.detach())  # D step: no gradient into G
    d_loss = discriminator_loss(real_logits, fake_logits)
    optimizer_d.zero_grad()
    d_loss.backward()
    optimizer_d.step()
    g_loss = generator_loss(discriminator(fake))  # G step: the updated D, through D into G
    optimizer_g.zero_grad()
    g_loss.backward()
    optimizer_g.step()
    return dict(d_loss=d_loss.item(), g_loss=g_loss.item(), d_real=torch.sigmoid(real_logits).mean().item(),
                d_fake=torch.sigmoid(fake_logits).mean().item())
