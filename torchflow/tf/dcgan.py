"""DCGAN (Radford et al., 2016) for small grey images -- the TensorFlow twin.

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
running variance is the unbiased one in both (:class:`torchflow.tf.layers.BatchNorm`).
A 4x4 stride-2 convolution with ``padding="same"`` on an even size pads one pixel on
each side, as PyTorch's ``padding=1``; the transposed one likewise doubles the size.

The discriminator returns a *logit* per image; the losses apply the sigmoid
inside the binary cross-entropy (``sigmoid_cross_entropy_with_logits``), which
is the notes' ``Sigmoid`` + ``BCELoss`` computed without overflow. One training
step (:func:`train_step`) is a D step, then a G step through the updated D.

    generator:     z (B, 100) -> (B, 1, 1, 100) -> conv-T 7x7      (B, 7, 7, 4c)   BN, ReLU
                              -> conv-T 4x4/2  (B, 14, 14, 2c) BN, ReLU
                              -> conv-T 4x4/2  (B, 28, 28, 1)  tanh
    discriminator: x (B, 28, 28, 1) -> conv 4x4/2 (B, 14, 14, 2c) LeakyReLU
                              -> conv 4x4/2  (B, 7, 7, 4c) BN, LeakyReLU
                              -> conv 7x7    (B, 1, 1, 1) -> logit (B,)
"""

from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import BatchNorm, normal_weights


def _check(latent_dim: int, channels: int, image_size: int) -> int:
    if latent_dim < 1 or channels < 1:
        raise ValueError(f"latent_dim and channels must be positive, got {latent_dim} and {channels}")
    if image_size < 4 or image_size % 4:
        raise ValueError(f"image_size must be a positive multiple of 4 (two stride-2 levels), got {image_size}")
    return image_size // 4


def _batch_norm() -> BatchNorm:
    """PyTorch's momentum=0.1 and eps=1e-5; scale N(1, 0.02), shift 0."""
    return BatchNorm(momentum=0.9, epsilon=1e-5, gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02),
                     beta_initializer="zeros")


def _conv_t(channels: int, kernel_size: int, stride: int, padding: str) -> keras.layers.Conv2DTranspose:
    return keras.layers.Conv2DTranspose(channels, kernel_size, strides=stride, padding=padding, use_bias=False,
                                        kernel_initializer=normal_weights())


def _conv(channels: int, kernel_size: int, stride: int, padding: str) -> keras.layers.Conv2D:
    return keras.layers.Conv2D(channels, kernel_size, strides=stride, padding=padding, use_bias=False,
                               kernel_initializer=normal_weights())


class Generator(keras.Model):
    def __init__(self, latent_dim: int = 100, channels: int = 32, image_channels: int = 1,
                 image_size: int = 28) -> None:
        super().__init__()
        side = _check(latent_dim, channels, image_size)
        self.latent_dim = latent_dim
        self.main = keras.Sequential([
            # input is z, 1 x 1 x (latent_dim)
            _conv_t(channels * 4, side, 1, "valid"),
            _batch_norm(),
            keras.layers.ReLU(),
            # state size. 7 x 7 x (4c)
            _conv_t(channels * 2, 4, 2, "same"),
            _batch_norm(),
            keras.layers.ReLU(),
            # state size. 14 x 14 x (2c)
            _conv_t(image_channels, 4, 2, "same"),
            keras.layers.Activation("tanh"),
            # state size. 28 x 28 x (image_channels), in [-1, 1]
        ])
        self(tf.zeros([1, latent_dim]))  # create the weights now

    def call(self, z: tf.Tensor, training: bool = False) -> tf.Tensor:
        return self.main(tf.reshape(z, [-1, 1, 1, self.latent_dim]), training=training)


class Discriminator(keras.Model):
    def __init__(self, channels: int = 32, image_channels: int = 1, image_size: int = 28) -> None:
        super().__init__()
        side = _check(1, channels, image_size)
        self.main = keras.Sequential([
            # input is 28 x 28 x (image_channels)
            _conv(channels * 2, 4, 2, "same"),
            keras.layers.LeakyReLU(negative_slope=0.2),
            # state size. 14 x 14 x (2c)
            _conv(channels * 4, 4, 2, "same"),
            _batch_norm(),
            keras.layers.LeakyReLU(negative_slope=0.2),
            # state size. 7 x 7 x (4c)
            _conv(1, side, 1, "valid"),
            # state size. 1 x 1 x 1: a logit
        ])
        self(tf.zeros([1, image_size, image_size, image_channels]))  # create the weights now

    def call(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
        return tf.reshape(self.main(images, training=training), [-1])


def discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """BCE(D(x), 1) + BCE(D(G(z)), 0), each averaged over its batch."""
    return (tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(real_logits), real_logits))
            + tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(fake_logits), fake_logits)))


def generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """BCE(D(G(z)), 1): the non-saturating generator loss, -log D(G(z)) averaged."""
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(fake_logits), fake_logits))


def train_step(generator: Generator, discriminator: Discriminator,
               optimizers: tuple[keras.optimizers.Optimizer, keras.optimizers.Optimizer],
               real: tf.Tensor, noise: tf.Tensor) -> dict[str, tf.Tensor]:
    """One DCGAN step: D on a real and a generated batch, then G on the same batch through the updated D.

    ``optimizers`` is (the generator's, the discriminator's), built on their networks' variables.
    Returns both losses and D's mean probability that the real batch (``d_real``) and the generated
    one (``d_fake``) are real, as D scored them in its step. The generator runs once, under the
    outer tape; the D step sees its images through ``tf.stop_gradient`` (PyTorch's ``detach``) and
    its update is applied *inside* the outer tape, so that the G loss is computed with the updated
    D without running G a second time (which would update its batch-norm statistics twice).
    Wrap it in ``tf.function`` to run it as one graph.
    """
    optimizer_g, optimizer_d = optimizers
    with tf.GradientTape() as g_tape:
        fake = generator(noise, training=True)
        with tf.GradientTape() as d_tape:  # D step: no gradient into G
            real_logits = discriminator(real, training=True)
            fake_logits = discriminator(tf.stop_gradient(fake), training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
        gradients = d_tape.gradient(d_loss, discriminator.trainable_variables)
        optimizer_d.apply_gradients(zip(gradients, discriminator.trainable_variables))
        g_loss = generator_loss(discriminator(fake, training=True))  # G step: the updated D, through D into G
    gradients = g_tape.gradient(g_loss, generator.trainable_variables)
    optimizer_g.apply_gradients(zip(gradients, generator.trainable_variables))
    return dict(d_loss=d_loss, g_loss=g_loss, d_real=tf.reduce_mean(tf.sigmoid(real_logits)),
                d_fake=tf.reduce_mean(tf.sigmoid(fake_logits)))
