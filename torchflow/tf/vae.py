"""Variational autoencoders with explicit weights -- the TensorFlow twin.

Dimension flow (``num_classes`` = C, 0 for the plain VAE)::

    encoder q(z|x):  x (B, 784) ++ y (B, C) -> hidden (B, 128) -> mean, logvar (B, 100)
    sample:          z = mean + exp(logvar / 2) * noise,  noise ~ N(0, I)
    decoder p(x|z):  z (B, 100) ++ y (B, C) -> hidden (B, 128) -> logits (B, 784)

The loss is the negative ELBO per image, in nats::

    reconstruction = sum over pixels of BCE(x, sigmoid(logits))
    kl = -1/2 * sum over latents of (1 + logvar - mean^2 - exp(logvar))
         (Kingma & Welling, "Auto-Encoding Variational Bayes", Appendix B)

Every weight is a tf.Variable created by hand; layers are matrix products.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import ExplicitWeights


def init_weight(fan_in: int, fan_out: int, generator: tf.random.Generator) -> tf.Variable:
    """He-style normal initialisation: N(0, 2 / fan_in), as a trainable variable."""
    return tf.Variable(generator.normal([fan_in, fan_out]) * (2.0 / fan_in) ** 0.5)


def init_bias(size: int) -> tf.Variable:
    return tf.Variable(tf.zeros([size]))


class VAE(ExplicitWeights):
    """Variational autoencoder; ``num_classes > 0`` makes it conditional (see :class:`CVAE`)."""

    def __init__(self, input_dim: int = 784, hidden_dim: int = 128, latent_dim: int = 100,
                 num_classes: int = 0, seed: int = 0) -> None:
        self.input_dim, self.hidden_dim, self.latent_dim = input_dim, hidden_dim, latent_dim
        self.num_classes = num_classes
        generator = tf.random.Generator.from_seed(seed)
        self.weights = {
            "encoder_hidden_w": init_weight(input_dim + num_classes, hidden_dim, generator),
            "encoder_hidden_b": init_bias(hidden_dim),
            "encoder_mean_w": init_weight(hidden_dim, latent_dim, generator),
            "encoder_mean_b": init_bias(latent_dim),
            "encoder_logvar_w": init_weight(hidden_dim, latent_dim, generator),
            "encoder_logvar_b": init_bias(latent_dim),
            "decoder_hidden_w": init_weight(latent_dim + num_classes, hidden_dim, generator),
            "decoder_hidden_b": init_bias(hidden_dim),
            "decoder_output_w": init_weight(hidden_dim, input_dim, generator),
            "decoder_output_b": init_bias(input_dim),
        }

    def condition(self, inputs: tf.Tensor, labels: tf.Tensor | None) -> tf.Tensor:
        """Append the one-hot label to ``inputs`` (a no-op for the plain VAE)."""
        if self.num_classes == 0:
            return inputs
        if labels is None:
            raise ValueError("this VAE is conditional: pass the labels too")
        one_hot = tf.one_hot(tf.cast(labels, tf.int32), self.num_classes, dtype=inputs.dtype)
        return tf.concat([inputs, one_hot], axis=1)

    def encode(self, images: tf.Tensor, labels: tf.Tensor | None = None):
        """q(z|x): the mean and log-variance of the latent code, each (B, latent_dim)."""
        w = self.weights
        hidden = tf.nn.relu(self.condition(images, labels) @ w["encoder_hidden_w"] + w["encoder_hidden_b"])
        mean = hidden @ w["encoder_mean_w"] + w["encoder_mean_b"]
        logvar = hidden @ w["encoder_logvar_w"] + w["encoder_logvar_b"]
        return mean, logvar

    def sample_latent(self, mean: tf.Tensor, logvar: tf.Tensor, noise: tf.Tensor | None = None):
        """The reparameterisation trick: z = mean + sigma * noise, differentiable in mean and logvar."""
        if noise is None:
            noise = tf.random.normal(tf.shape(mean))
        return mean + tf.exp(logvar / 2) * noise

    def decode(self, latent: tf.Tensor, labels: tf.Tensor | None = None) -> tf.Tensor:
        """p(x|z): pixel logits (B, input_dim); ``tf.sigmoid`` of them is the image."""
        w = self.weights
        hidden = tf.nn.relu(self.condition(latent, labels) @ w["decoder_hidden_w"] + w["decoder_hidden_b"])
        return hidden @ w["decoder_output_w"] + w["decoder_output_b"]

    def loss_per_image(self, images: tf.Tensor, labels: tf.Tensor | None = None,
                       noise: tf.Tensor | None = None):
        """Negative ELBO of each image, in nats; returns (loss, reconstruction, kl), each (B,)."""
        mean, logvar = self.encode(images, labels)
        logits = self.decode(self.sample_latent(mean, logvar, noise), labels)
        reconstruction = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(images, logits), 1)
        kl = -0.5 * tf.reduce_sum(1 + logvar - mean**2 - tf.exp(logvar), 1)
        return reconstruction + kl, reconstruction, kl

    def loss(self, images: tf.Tensor, labels: tf.Tensor | None = None,
             noise: tf.Tensor | None = None):
        """Negative ELBO averaged over the batch; returns (loss, reconstruction, kl)."""
        return tuple(tf.reduce_mean(term) for term in self.loss_per_image(images, labels, noise))

    def generate(self, latent: tf.Tensor, labels: tf.Tensor | None = None) -> tf.Tensor:
        """Decode latent codes into images in [0, 1]."""
        return tf.sigmoid(self.decode(latent, labels))

    def activations(self, images: tf.Tensor, labels: tf.Tensor | None = None,
                    noise: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        """Every intermediate tensor of one pass, in order: the model's dimension flow."""
        w = self.weights
        encoder_input = self.condition(images, labels)
        encoder_hidden = tf.nn.relu(encoder_input @ w["encoder_hidden_w"] + w["encoder_hidden_b"])
        mean, logvar = self.encode(images, labels)
        latent = self.sample_latent(mean, logvar, noise)
        decoder_input = self.condition(latent, labels)
        decoder_hidden = tf.nn.relu(decoder_input @ w["decoder_hidden_w"] + w["decoder_hidden_b"])
        return {
            "input": encoder_input, "encoder_hidden": encoder_hidden, "mean": mean, "logvar": logvar,
            "latent": latent, "decoder_input": decoder_input, "decoder_hidden": decoder_hidden,
            "output": tf.sigmoid(self.decode(latent, labels)),
        }


class CVAE(VAE):
    """Conditional VAE: the one-hot label joins the input of the encoder and of the decoder."""

    def __init__(self, input_dim: int = 784, hidden_dim: int = 128, latent_dim: int = 100,
                 num_classes: int = 10, seed: int = 0) -> None:
        if num_classes < 1:
            raise ValueError("a CVAE needs num_classes >= 1")
        super().__init__(input_dim, hidden_dim, latent_dim, num_classes, seed)


def train_step(model: VAE, optimizer: keras.optimizers.Optimizer, images: tf.Tensor,
               labels: tf.Tensor | None = None) -> tf.Tensor:
    """One optimiser step on the batch's negative ELBO; returns the loss before the step.

    The tape's gradients are applied to the variables listed (``model.parameters()``) and no others."""
    variables = model.parameters()
    with tf.GradientTape() as tape:
        loss, reconstruction, kl = model.loss(images, labels)
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss
