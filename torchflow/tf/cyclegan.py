"""CycleGAN (Zhu et al., 2017) for small grey images -- the TensorFlow twin.

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
statistics (so training and evaluation mode compute the same), epsilon 1e-5 (Keras'
default is 1e-3): ``keras.layers.GroupNormalization(groups=-1)``, one group per
channel, is PyTorch's ``InstanceNorm2d``. Initialisation, the paper's, declared in
both twins: every convolution's weights N(0, 0.02) (:func:`torchflow.tf.layers.normal_weights`,
one initializer a layer), biases zero; a convolution followed by instance norm has no bias (the norm removes
it). Padding is zeros (the paper pads the generator with reflections): ``"same"`` is
PyTorch's ``padding=k // 2`` for the 3x3 and 7x7 stride-1 convolutions, and its
``padding=1`` for the 4x4 stride-2 ones on even sizes (the DCGAN twins' convention).

    generator:     x (B, 28, 28, 1) -> conv 7x7   (B, 28, 28, c)   IN, ReLU
                                    -> conv 4x4/2 (B, 14, 14, 2c)  IN, ReLU
                                    -> conv 4x4/2 (B, 7, 7, 4c)    IN, ReLU
                                    -> blocks x [x + IN(conv 3x3(ReLU(IN(conv 3x3(x)))))]  (B, 7, 7, 4c)
                                    -> conv-T 4x4/2 (B, 14, 14, 2c) IN, ReLU
                                    -> conv-T 4x4/2 (B, 28, 28, c)  IN, ReLU
                                    -> conv 7x7   (B, 28, 28, 1)   tanh
    discriminator: x (B, 28, 28, 1) -> conv 4x4/2 (B, 14, 14, c)   LeakyReLU(0.2)
                                    -> conv 4x4/2 (B, 7, 7, 2c)    IN, LeakyReLU(0.2)
                                    -> conv 3x3   (B, 7, 7, 4c)    IN, LeakyReLU(0.2)
                                    -> conv 3x3   (B, 7, 7, 1)     -> patch logits (B, 49)
"""

from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import normal_weights

EPSILON = 1e-5  # instance norm's


def _check(channels: int, image_size: int, blocks: int = 0) -> None:
    if channels < 1 or blocks < 0:
        raise ValueError(f"channels must be positive and blocks non-negative, got {channels} and {blocks}")
    if image_size < 4 or image_size % 4:
        raise ValueError(f"image_size must be a positive multiple of 4 (two stride-2 levels), got {image_size}")


def _conv(channels: int, kernel_size: int, stride: int = 1, bias: bool = False) -> keras.layers.Conv2D:
    return keras.layers.Conv2D(channels, kernel_size, strides=stride, padding="same", use_bias=bias,
                               kernel_initializer=normal_weights(), bias_initializer="zeros")


def _conv_t(channels: int) -> keras.layers.Conv2DTranspose:
    return keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same", use_bias=False,
                                        kernel_initializer=normal_weights())


def instance_norm() -> keras.layers.GroupNormalization:
    """Per image and channel, over the pixels; no scale, no shift, no running statistics."""
    return keras.layers.GroupNormalization(groups=-1, epsilon=EPSILON, center=False, scale=False)


class ResidualBlock(keras.layers.Layer):
    """x + IN(conv 3x3(ReLU(IN(conv 3x3(x))))): the same channels and size in and out."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        _check(channels, 4)
        self.block = keras.Sequential([
            _conv(channels, 3),
            instance_norm(),
            keras.layers.ReLU(),
            _conv(channels, 3),
            instance_norm(),
        ])

    def call(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        return x + self.block(x, training=training)


class Generator(keras.Model):
    def __init__(self, channels: int = 8, blocks: int = 2, image_channels: int = 1, image_size: int = 28) -> None:
        super().__init__()
        _check(channels, image_size, blocks)
        c = channels
        self.main = keras.Sequential([
            # input is an image of the other domain, 28 x 28 x (image_channels), in [-1, 1]
            _conv(c, 7), instance_norm(), keras.layers.ReLU(),
            # state size. 28 x 28 x (c)
            _conv(2 * c, 4, 2), instance_norm(), keras.layers.ReLU(),
            # state size. 14 x 14 x (2c)
            _conv(4 * c, 4, 2), instance_norm(), keras.layers.ReLU(),
            # state size. 7 x 7 x (4c)
            *(ResidualBlock(4 * c) for _ in range(blocks)),
            # state size. 7 x 7 x (4c)
            _conv_t(2 * c), instance_norm(), keras.layers.ReLU(),
            # state size. 14 x 14 x (2c)
            _conv_t(c), instance_norm(), keras.layers.ReLU(),
            # state size. 28 x 28 x (c)
            _conv(image_channels, 7, bias=True), keras.layers.Activation("tanh"),
            # state size. 28 x 28 x (image_channels), in [-1, 1]
        ])
        self(tf.zeros([1, image_size, image_size, image_channels]))  # create the weights now

    def call(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
        return self.main(images, training=training)


class Discriminator(keras.Model):
    def __init__(self, channels: int = 16, image_channels: int = 1, image_size: int = 28) -> None:
        super().__init__()
        _check(channels, image_size)
        self.main = keras.Sequential([
            # input is 28 x 28 x (image_channels)
            _conv(channels, 4, 2, bias=True), keras.layers.LeakyReLU(negative_slope=0.2),
            # state size. 14 x 14 x (c)
            _conv(2 * channels, 4, 2), instance_norm(), keras.layers.LeakyReLU(negative_slope=0.2),
            # state size. 7 x 7 x (2c)
            _conv(4 * channels, 3), instance_norm(), keras.layers.LeakyReLU(negative_slope=0.2),
            # state size. 7 x 7 x (4c)
            _conv(1, 3, bias=True),
            # state size. 7 x 7 x 1: one logit per 26x26 window of the image
        ])
        self(tf.zeros([1, image_size, image_size, image_channels]))  # create the weights now

    def call(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
        scores = self.main(images, training=training)
        return tf.reshape(scores, [tf.shape(scores)[0], -1])


def discriminator_loss(real_scores: tf.Tensor, fake_scores: tf.Tensor) -> tf.Tensor:
    """Least squares: (mean (D(x) - 1)^2 + mean D(G(y))^2) / 2, over patches and batch (the paper halves it)."""
    return 0.5 * (tf.reduce_mean((real_scores - 1) ** 2) + tf.reduce_mean(fake_scores ** 2))


def generator_loss(fake_scores: tf.Tensor) -> tf.Tensor:
    """Least squares: mean (D(G(y)) - 1)^2, over patches and batch."""
    return tf.reduce_mean((fake_scores - 1) ** 2)


def reconstruction_loss(images: tf.Tensor, reconstructed: tf.Tensor) -> tf.Tensor:
    """Mean absolute error (L1): the cycle-consistency loss, and the identity loss."""
    return tf.reduce_mean(tf.abs(images - reconstructed))


def train_step(generators: tuple[Generator, Generator], discriminators: tuple[Discriminator, Discriminator],
               optimizers: tuple[keras.optimizers.Optimizer, keras.optimizers.Optimizer], real_a: tf.Tensor,
               real_b: tf.Tensor, cycle_weight: float = 10.0, identity_weight: float = 0.0) -> dict[str, tf.Tensor]:
    """One CycleGAN step: both generators, then both discriminators on the same translations.

    ``generators`` is (G_AB, G_BA), ``discriminators`` (D_A, D_B), ``optimizers`` (the one over both
    generators' variables, the one over both discriminators', each built on the concatenated lists).
    The generators' tape records the translations and all their losses (the identity losses only
    when weighted: a Python test, decided once when a ``tf.function`` traces it); the discriminators'
    tape then scores the same translations through ``tf.stop_gradient`` (PyTorch's ``detach``).
    Returns the summed ``adversarial``, ``cycle``, ``identity`` losses (before their weights), the
    generators' total loss and the discriminators' summed loss. Wrap it in ``tf.function``.
    """
    (g_ab, g_ba), (d_a, d_b), (optimizer_g, optimizer_d) = generators, discriminators, optimizers
    g_variables = g_ab.trainable_variables + g_ba.trainable_variables
    d_variables = d_a.trainable_variables + d_b.trainable_variables
    with tf.GradientTape() as g_tape:  # the generators' step
        fake_b, fake_a = g_ab(real_a, training=True), g_ba(real_b, training=True)
        adversarial = generator_loss(d_b(fake_b, training=True)) + generator_loss(d_a(fake_a, training=True))
        cycle = (reconstruction_loss(real_a, g_ba(fake_b, training=True))
                 + reconstruction_loss(real_b, g_ab(fake_a, training=True)))
        identity = tf.zeros((), dtype=cycle.dtype)  # G_AB(b) = b and G_BA(a) = a, only when weighted
        if identity_weight:
            identity = (reconstruction_loss(real_b, g_ab(real_b, training=True))
                        + reconstruction_loss(real_a, g_ba(real_a, training=True)))
        g_loss = adversarial + cycle_weight * cycle + identity_weight * identity
    optimizer_g.apply_gradients(zip(g_tape.gradient(g_loss, g_variables), g_variables))
    fake_a, fake_b = tf.stop_gradient(fake_a), tf.stop_gradient(fake_b)
    with tf.GradientTape() as d_tape:  # the discriminators' step
        d_loss = (discriminator_loss(d_a(real_a, training=True), d_a(fake_a, training=True))
                  + discriminator_loss(d_b(real_b, training=True), d_b(fake_b, training=True)))
    optimizer_d.apply_gradients(zip(d_tape.gradient(d_loss, d_variables), d_variables))
    return dict(adversarial=adversarial, cycle=cycle, identity=identity, generators=g_loss, discriminators=d_loss)
