"""BEGAN (Berthelot, Schumm and Metz, 2017) for small grey images -- the TensorFlow twin.

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

    encoder: x (B, 28, 28, 1) -> conv 4x4/2 (B, 14, 14, n) -> conv 4x4/2 (B, 7, 7, 2n)
             -> conv 7x7 (B, 1, 1, h) -> code (B, h)
    decoder: code (B, h) -> conv-T 7x7 (B, 7, 7, n) -> conv 3x3 -> up x2 (B, 14, 14, n)
             -> conv 3x3 -> up x2 (B, 28, 28, n) -> conv 3x3, tanh (B, 28, 28, 1)
    discriminator: decoder(encoder(x)); generator: a decoder of its own, from z (B, h)
"""

from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import GLOROT


def _check(latent_dim: int, channels: int, image_size: int) -> int:
    if latent_dim < 1 or channels < 1:
        raise ValueError(f"latent_dim and channels must be positive, got {latent_dim} and {channels}")
    if image_size < 4 or image_size % 4:
        raise ValueError(f"image_size must be a positive multiple of 4 (two resolution levels), got {image_size}")
    return image_size // 4


def _conv(channels: int, kernel_size: int, stride: int = 1, padding: str = "same") -> keras.layers.Conv2D:
    return keras.layers.Conv2D(channels, kernel_size, strides=stride, padding=padding, **GLOROT)


class Encoder(keras.Model):
    def __init__(self, latent_dim: int = 32, channels: int = 16, image_channels: int = 1,
                 image_size: int = 28) -> None:
        super().__init__()
        side = _check(latent_dim, channels, image_size)
        self.latent_dim = latent_dim
        self.main = keras.Sequential([
            # input is 28 x 28 x (image_channels)
            _conv(channels, 4, 2),
            keras.layers.ELU(),
            # state size. 14 x 14 x (n)
            _conv(channels * 2, 4, 2),
            keras.layers.ELU(),
            # state size. 7 x 7 x (2n)
            _conv(latent_dim, side, 1, "valid"),
            # state size. 1 x 1 x (latent_dim): the code
        ])
        self(tf.zeros([1, image_size, image_size, image_channels]))  # create the weights now

    def call(self, images: tf.Tensor) -> tf.Tensor:
        return tf.reshape(self.main(images), [-1, self.latent_dim])


class Decoder(keras.Model):
    def __init__(self, latent_dim: int = 32, channels: int = 16, image_channels: int = 1,
                 image_size: int = 28) -> None:
        super().__init__()
        side = _check(latent_dim, channels, image_size)
        self.latent_dim = latent_dim
        self.main = keras.Sequential([
            # input is a code, 1 x 1 x (latent_dim)
            keras.layers.Conv2DTranspose(channels, side, padding="valid", **GLOROT),
            keras.layers.ELU(),
            # state size. 7 x 7 x (n)
            _conv(channels, 3),
            keras.layers.ELU(),
            keras.layers.UpSampling2D(2, interpolation="nearest"),
            # state size. 14 x 14 x (n)
            _conv(channels, 3),
            keras.layers.ELU(),
            keras.layers.UpSampling2D(2, interpolation="nearest"),
            # state size. 28 x 28 x (n)
            _conv(image_channels, 3),
            keras.layers.Activation("tanh"),
            # state size. 28 x 28 x (image_channels), in [-1, 1]
        ])
        self(tf.zeros([1, latent_dim]))  # create the weights now

    def call(self, code: tf.Tensor) -> tf.Tensor:
        return self.main(tf.reshape(code, [-1, 1, 1, self.latent_dim]))


class Generator(Decoder):
    """The generator: the decoder's architecture, with weights of its own, from z ~ U(-1, 1)^h."""


class Discriminator(keras.Model):
    def __init__(self, latent_dim: int = 32, channels: int = 16, image_channels: int = 1,
                 image_size: int = 28) -> None:
        super().__init__()
        self.encoder = Encoder(latent_dim, channels, image_channels, image_size)
        self.decoder = Decoder(latent_dim, channels, image_channels, image_size)

    def call(self, images: tf.Tensor) -> tf.Tensor:
        """The reconstruction of ``images``."""
        return self.decoder(self.encoder(images))


def reconstruction_loss(images: tf.Tensor, reconstructions: tf.Tensor) -> tf.Tensor:
    """L(v) = mean |v - D(v)|: the L1 reconstruction error, averaged over pixels and batch."""
    return tf.reduce_mean(tf.abs(images - reconstructions))


def balance_update(k: tf.Tensor, loss_real: tf.Tensor, loss_fake: tf.Tensor, gamma: float,
                   lambda_k: float) -> tf.Tensor:
    """The proportional controller: k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)."""
    return tf.clip_by_value(k + lambda_k * (gamma * loss_real - loss_fake), 0.0, 1.0)


def convergence_measure(loss_real: tf.Tensor, loss_fake: tf.Tensor, gamma: float) -> tf.Tensor:
    """M_global = L(x) + |gamma L(x) - L(G(z))|: the real images' error plus the controller's."""
    return loss_real + tf.abs(gamma * loss_real - loss_fake)


def train_step(generator: Generator, discriminator: Discriminator,
               optimizers: tuple[keras.optimizers.Optimizer, keras.optimizers.Optimizer],
               real: tf.Tensor, noise: tf.Tensor, k: tf.Tensor, gamma: float, lambda_k: float) -> dict[str, tf.Tensor]:
    """One BEGAN step: D on L(x) - k_t L(G(z)), then G on L(G(z)) through the updated D, then k_t.

    ``optimizers`` is (the generator's, the discriminator's), built on their networks' variables;
    ``k`` is k_t (a tensor or a non-trainable ``tf.Variable``: no gradient flows through it). Returns
    the D loss, L(x) (``loss_real``), L(G(z)) (``loss_fake``, scored by the updated D), M_global and
    k_{t+1} (``k``: assign it to the variable). The generator runs once, under the outer tape; the D
    step's tape sees its images through ``tf.stop_gradient``. Wrap it in ``tf.function``.
    """
    optimizer_g, optimizer_d = optimizers
    with tf.GradientTape() as g_tape:
        fake = generator(noise)
        with tf.GradientTape() as d_tape:
            loss_real = reconstruction_loss(real, discriminator(real))
            d_loss = loss_real - k * reconstruction_loss(tf.stop_gradient(fake), discriminator(tf.stop_gradient(fake)))
        optimizer_d.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables),
                                        discriminator.trainable_variables))
        loss_fake = reconstruction_loss(fake, discriminator(fake))  # G step: the updated D, through D into G
    optimizer_g.apply_gradients(zip(g_tape.gradient(loss_fake, generator.trainable_variables),
                                    generator.trainable_variables))
    return dict(d_loss=d_loss, loss_real=loss_real, loss_fake=loss_fake,
                m_global=convergence_measure(loss_real, loss_fake, gamma),
                k=balance_update(k, loss_real, loss_fake, gamma, lambda_k))
