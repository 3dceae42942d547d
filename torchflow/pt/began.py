"""BEGAN (Berthelot, Schumm and Metz, 2017) for small grey images -- the PyTorch twin.

Boundary equilibrium GAN: the discriminator is an *autoencoder* (an encoder to a
small code, a decoder back to an image), and its output is the reconstruction,
not a probability. The generator has the decoder's architecture (not its
weights). The losses are L1 reconstruction errors (see the page); one training step
(:func:`train_step`) is a D step, a G step and the update of the balance k_t. Sized for 28x28
images and a CPU: two resolution levels, widths set by ``channels`` (n), and
one convolution a level where the paper has two.

The paper's fully connected layers between the 7x7 maps and the code are written
as convolutions that cover the whole map (a 7x7 convolution down to 1x1, a 7x7
transposed convolution from 1x1 up), which compute the same linear maps with a
layout that is the same in both frameworks. Down-sampling is a 4x4 stride-2
convolution (PyTorch ``padding=1`` is Keras ``"same"`` on even sizes), up-sampling
nearest-neighbour, activations ELU, and the decoder ends on tanh, the range of
the images. Initialisation, declared in both twins: Glorot uniform weights and
zero biases (Keras' default; PyTorch's default differs).

The dimensions::

    encoder: x (B, 1, 28, 28) -> conv 4x4/2 (B, n, 14, 14) -> conv 4x4/2 (B, 2n, 7, 7)
             -> conv 7x7 (B, h, 1, 1) -> code (B, h)
    decoder: code (B, h) -> conv-T 7x7 (B, n, 7, 7) -> conv 3x3 -> up x2 (B, n, 14, 14)
             -> conv 3x3 -> up x2 (B, n, 28, 28) -> conv 3x3, tanh (B, 1, 28, 28)
    discriminator: decoder(encoder(x)); generator: a decoder of its own, from z (B, h)
"""

from __future__ import annotations

import torch
from torch import nn


def _check(latent_dim: int, channels: int, image_size: int) -> int:
    if latent_dim < 1 or channels < 1:
        raise ValueError(f"latent_dim and channels must be positive, got {latent_dim} and {channels}")
    if image_size < 4 or image_size % 4:
        raise ValueError(f"image_size must be a positive multiple of 4 (two resolution levels), got {image_size}")
    return image_size // 4


def _init(module: nn.Module) -> None:
    """Glorot uniform weights and zero biases (Keras' default), for every convolution."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.xavier_uniform_(module.weight)
        nn.init.zeros_(module.bias)


class Encoder(nn.Module):
    def __init__(self, latent_dim: int = 32, channels: int = 16, image_channels: int = 1,
                 image_size: int = 28) -> None:
        super().__init__()
        side = _check(latent_dim, channels, image_size)
        self.latent_dim = latent_dim
        self.main = nn.Sequential(
            # input is (image_channels) x 28 x 28
            nn.Conv2d(image_channels, channels, 4, 2, 1),
            nn.ELU(),
            # state size. (n) x 14 x 14
            nn.Conv2d(channels, channels * 2, 4, 2, 1),
            nn.ELU(),
            # state size. (2n) x 7 x 7
            nn.Conv2d(channels * 2, latent_dim, side, 1, 0),
            # state size. (latent_dim) x 1 x 1: the code
        )
        self.apply(_init)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images).flatten(1)


class Decoder(nn.Module):
    def __init__(self, latent_dim: int = 32, channels: int = 16, image_channels: int = 1,
                 image_size: int = 28) -> None:
        super().__init__()
        side = _check(latent_dim, channels, image_size)
        self.latent_dim = latent_dim
        self.main = nn.Sequential(
            # input is a code, (latent_dim) x 1 x 1
            nn.ConvTranspose2d(latent_dim, channels, side, 1, 0),
            nn.ELU(),
            # state size. (n) x 7 x 7
            nn.Conv2d(channels, channels, 3, 1, 1),
            nn.ELU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            # state size. (n) x 14 x 14
            nn.Conv2d(channels, channels, 3, 1, 1),
            nn.ELU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            # state size. (n) x 28 x 28
            nn.Conv2d(channels, image_channels, 3, 1, 1),
            nn.Tanh(),
            # state size. (image_channels) x 28 x 28, in [-1, 1]
        )
        self.apply(_init)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.main(code.reshape(len(code), self.latent_dim, 1, 1))


class Generator(Decoder):
    """The generator: the decoder's architecture, with weights of its own, from z ~ U(-1, 1)^h."""


class Discriminator(nn.Module):
    def __init__(self, latent_dim: int = 32, channels: int = 16, image_channels: int = 1,
                 image_size: int = 28) -> None:
        super().__init__()
        self.encoder = Encoder(latent_dim, channels, image_channels, image_size)
        self.decoder = Decoder(latent_dim, channels, image_channels, image_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """The reconstruction of ``images``."""
        return self.decoder(self.encoder(images))


def reconstruction_loss(images: torch.Tensor, reconstructions: torch.Tensor) -> torch.Tensor:
    """L(v) = mean |v - D(v)|: the L1 reconstruction error, averaged over pixels and batch."""
    return (images - reconstructions).abs().mean()


def balance_update(k: float, loss_real: float, loss_fake: float, gamma: float, lambda_k: float) -> float:
    """The proportional controller: k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)."""
    return min(max(k + lambda_k * (gamma * loss_real - loss_fake), 0.0), 1.0)


def convergence_measure(loss_real: float, loss_fake: float, gamma: float) -> float:
    """M_global = L(x) + |gamma L(x) - L(G(z))|: the real images' error plus the controller's."""
    return loss_real + abs(gamma * loss_real - loss_fake)


def train_step(generator: Generator, discriminator: Discriminator,
               optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer],
               real: torch.Tensor, noise: torch.Tensor, k: float, gamma: float, lambda_k: float) -> dict[str, float]:
    """One BEGAN step: D on L(x) - k_t L(G(z)), then G on L(G(z)) through the updated D, then k_t.

    ``optimizers`` is (the generator's, the discriminator's); ``k`` is k_t, a plain number (no
    gradient flows through it). Returns the D loss, L(x) (``loss_real``), L(G(z)) (``loss_fake``,
    scored by the updated D), M_global and k_{t+1} (``k``: pass it to the next step).
    """
    optimizer_g, optimizer_d = optimizers
    fake = generator(noise)
    loss_real = reconstruction_loss(real, discriminator(real))
    d_loss = loss_real - k * reconstruction_loss(fake.detach(), discriminator(fake.detach()))  # no gradient into G
    optimizer_d.zero_grad()
    d_loss.backward()
    optimizer_d.step()
    loss_fake = reconstruction_loss(fake, discriminator(fake))  # G step: the updated D, through D into G
    optimizer_g.zero_grad()
    loss_fake.backward()
    optimizer_g.step()
    loss_real, loss_fake = loss_real.item(), loss_fake.item()
    return dict(d_loss=d_loss.item(), loss_real=loss_real, loss_fake=loss_fake,
                m_global=convergence_measure(loss_real, loss_fake, gamma),
                k=balance_update(k, loss_real, loss_fake, gamma, lambda_k))
