"""CycleGAN (Zhu et al., 2017) for small grey images -- the PyTorch twin.

Two generators translate between two image domains, G_AB: A -> B and G_BA: B -> A;
two discriminators, D_A and D_B, tell real images of their domain from translated
ones. No noise: the input of a generator is an image of the other domain. Sized for
28x28 images and a CPU: the paper's encoder -- residual blocks -- decoder
generator with two stride-2 levels (28 -> 14 -> 7 and back), ``blocks`` residual
blocks at 7x7, widths set by ``channels`` (c); a PatchGAN discriminator with two
stride-2 levels and two 3x3 layers, a 7x7 map of logits, each computed from a 26x26
window of the image around its place (4 + 3 x 2 + 2 x 4 + 2 x 4 pixels, measured by a
gradient in ``tests/test_losses_gan_conv.py``; the instance norms add each image's own
statistics, which see all of it; a shallower one, whose 18x18 windows could not see a
boot's whole shaft, left the boot-to-sneaker translation behind).

Normalisation is the paper's instance norm: each image's channel normalised by its
own mean and (biased) variance over the pixels, no learned scale or shift, no running
statistics (so training and evaluation mode compute the same), epsilon 1e-5; the
TensorFlow twin's is ``keras.layers.GroupNormalization(groups=-1)``, one group per
channel. Initialisation, the paper's, declared in both twins: every convolution's
weights N(0, 0.02), biases zero; a convolution followed by instance norm has no bias
(the norm removes it). Padding is zeros (the paper pads the generator with
reflections): a 3x3 or 7x7 stride-1 convolution with ``padding=k // 2`` is Keras'
``"same"``, and the 4x4 stride-2 ones with ``padding=1`` are too, on even sizes (the
DCGAN twins' convention, tested in ``tests/test_parity_dcgan.py``).

    generator:     x (B, 1, 28, 28) -> conv 7x7   (B, c, 28, 28)   IN, ReLU
                                    -> conv 4x4/2 (B, 2c, 14, 14)  IN, ReLU
                                    -> conv 4x4/2 (B, 4c, 7, 7)    IN, ReLU
                                    -> blocks x [x + IN(conv 3x3(ReLU(IN(conv 3x3(x)))))]  (B, 4c, 7, 7)
                                    -> conv-T 4x4/2 (B, 2c, 14, 14) IN, ReLU
                                    -> conv-T 4x4/2 (B, c, 28, 28)  IN, ReLU
                                    -> conv 7x7   (B, 1, 28, 28)   tanh
    discriminator: x (B, 1, 28, 28) -> conv 4x4/2 (B, c, 14, 14)   LeakyReLU(0.2)
                                    -> conv 4x4/2 (B, 2c, 7, 7)    IN, LeakyReLU(0.2)
                                    -> conv 3x3   (B, 4c, 7, 7)    IN, LeakyReLU(0.2)
                                    -> conv 3x3   (B, 1, 7, 7)     -> patch logits (B, 49)
"""

from __future__ import annotations

import torch
from torch import nn

from torchflow.pt.layers import normal_weights as _init

EPSILON = 1e-5  # instance norm's


def _check(channels: int, image_size: int, blocks: int = 0) -> None:
    if channels < 1 or blocks < 0:
        raise ValueError(f"channels must be positive and blocks non-negative, got {channels} and {blocks}")
    if image_size < 4 or image_size % 4:
        raise ValueError(f"image_size must be a positive multiple of 4 (two stride-2 levels), got {image_size}")


def instance_norm(channels: int) -> nn.InstanceNorm2d:
    """Per image and channel, over the pixels; no scale, no shift, no running statistics."""
    return nn.InstanceNorm2d(channels, eps=EPSILON, affine=False, track_running_stats=False)


class ResidualBlock(nn.Module):
    """x + IN(conv 3x3(ReLU(IN(conv 3x3(x))))): the same channels and size in and out."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        _check(channels, 4)
        self.block = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            instance_norm(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            instance_norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class Generator(nn.Module):
    def __init__(self, channels: int = 8, blocks: int = 2, image_channels: int = 1, image_size: int = 28) -> None:
        super().__init__()
        _check(channels, image_size, blocks)
        c = channels
        self.main = nn.Sequential(
            # input is an image of the other domain, (image_channels) x 28 x 28, in [-1, 1]
            nn.Conv2d(image_channels, c, 7, 1, 3, bias=False), instance_norm(c), nn.ReLU(),
            # state size. (c) x 28 x 28
            nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), instance_norm(2 * c), nn.ReLU(),
            # state size. (2c) x 14 x 14
            nn.Conv2d(2 * c, 4 * c, 4, 2, 1, bias=False), instance_norm(4 * c), nn.ReLU(),
            # state size. (4c) x 7 x 7
            *(ResidualBlock(4 * c) for _ in range(blocks)),
            # state size. (4c) x 7 x 7
            nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1, bias=False), instance_norm(2 * c), nn.ReLU(),
            # state size. (2c) x 14 x 14
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False), instance_norm(c), nn.ReLU(),
            # state size. (c) x 28 x 28
            nn.Conv2d(c, image_channels, 7, 1, 3), nn.Tanh(),
            # state size. (image_channels) x 28 x 28, in [-1, 1]
        )
        self.apply(_init)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images)


class Discriminator(nn.Module):
    def __init__(self, channels: int = 16, image_channels: int = 1, image_size: int = 28) -> None:
        super().__init__()
        _check(channels, image_size)
        self.main = nn.Sequential(
            # input is (image_channels) x 28 x 28
            nn.Conv2d(image_channels, channels, 4, 2, 1), nn.LeakyReLU(0.2),
            # state size. (c) x 14 x 14
            nn.Conv2d(channels, 2 * channels, 4, 2, 1, bias=False), instance_norm(2 * channels), nn.LeakyReLU(0.2),
            # state size. (2c) x 7 x 7
            nn.Conv2d(2 * channels, 4 * channels, 3, 1, 1, bias=False), instance_norm(4 * channels),
            nn.LeakyReLU(0.2),
            # state size. (4c) x 7 x 7
            nn.Conv2d(4 * channels, 1, 3, 1, 1),
            # state size. 1 x 7 x 7: one logit per 26x26 window of the image
        )
        self.apply(_init)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images).reshape(len(images), -1)


def discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Least squares: (mean (D(x) - 1)^2 + mean D(G(y))^2) / 2, over patches and batch (the paper halves it)."""
    return 0.5 * (((real_scores - 1) ** 2).mean() + (fake_scores ** 2).mean())


def generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Least squares: mean (D(G(y)) - 1)^2, over patches and batch."""
    return ((fake_scores - 1) ** 2).mean()


def reconstruction_loss(images: torch.Tensor, reconstructed: torch.Tensor) -> torch.Tensor:
    """Mean absolute error (L1): the cycle-consistency loss, and the identity loss."""
    return (images - reconstructed).abs().mean()


def train_step(generators: tuple[Generator, Generator], discriminators: tuple[Discriminator, Discriminator],
               optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer], real_a: torch.Tensor,
               real_b: torch.Tensor, cycle_weight: float = 10.0, identity_weight: float = 0.0) -> dict[str, float]:
    """One CycleGAN step: both generators, then both discriminators on the same translations.

    ``generators`` is (G_AB, G_BA), ``discriminators`` (D_A, D_B), ``optimizers`` (the one over both
    generators' weights, the one over both discriminators'). The generators minimise their two
    least-squares adversarial losses + ``cycle_weight`` x the two cycle L1 losses (+ ``identity_weight``
    x the two identity L1 losses, computed only when weighted: two more passes each); their loss
    flows through the discriminators into the generators. The discriminators then score the same
    translations ``detach()``-ed. Returns the summed ``adversarial``, ``cycle``, ``identity`` losses
    (before their weights), the generators' total loss and the discriminators' summed loss.
    """
    (g_ab, g_ba), (d_a, d_b), (optimizer_g, optimizer_d) = generators, discriminators, optimizers
    fake_b, fake_a = g_ab(real_a), g_ba(real_b)  # the generators' step
    adversarial = generator_loss(d_b(fake_b)) + generator_loss(d_a(fake_a))
    cycle = reconstruction_loss(real_a, g_ba(fake_b)) + reconstruction_loss(real_b, g_ab(fake_a))
    identity = torch.zeros((), device=real_a.device)  # G_AB(b) = b and G_BA(a) = a, only when weighted
    if identity_weight:
        identity = reconstruction_loss(real_b, g_ab(real_b)) + reconstruction_loss(real_a, g_ba(real_a))
    g_loss = adversarial + cycle_weight * cycle + identity_weight * identity
    optimizer_g.zero_grad()
    g_loss.backward()
    optimizer_g.step()
    d_loss = (discriminator_loss(d_a(real_a), d_a(fake_a.detach()))  # the discriminators' step
              + discriminator_loss(d_b(real_b), d_b(fake_b.detach())))
    optimizer_d.zero_grad()
    d_loss.backward()
    optimizer_d.step()
    return dict(adversarial=adversarial.item(), cycle=cycle.item(), identity=identity.item(),
                generators=g_loss.item(), discriminators=d_loss.item())
