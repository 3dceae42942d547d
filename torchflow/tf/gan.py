"""Generative adversarial nets with explicit weights -- the TensorFlow twin.

Dimension flow of the GAN and the conditional GAN (``num_classes`` = C, 0 for the plain GAN)::

    generator G:      z (B, 100) ++ y (B, C) -> hidden (B, 128) -> logits (B, 784) -> sigmoid: image
    discriminator D:  x (B, 784) ++ y (B, C) -> hidden (B, 128) -> logit (B, 1)   -> sigmoid: D(x)

InfoGAN: no label; a code c, one-hot categorical (B, 10) ++ continuous (B, 2), joins the noise::

    G: z (B, 16) ++ c (B, 12) -> hidden (B, 256) -> image (B, 784)
    D: x (B, 784)             -> hidden (B, 128) -> logit (B, 1)
    Q: x (B, 784)             -> hidden (B, 128) -> category logits (B, 10), continuous means (B, 2)
       (``shared_body=True``, the InfoGAN paper: Q's hidden layer is D's; Q's own weights are the two heads)

The losses, per batch (BCE with logits, so log(sigmoid) never overflows)::

    D:  BCE(D(x), 1) + BCE(D(G(z)), 0)
    G:  BCE(D(G(z)), 1)              (non-saturating; ``saturating=True``: -BCE(D(G(z)), 0) = log(1 - D(G(z))))
    Q:  cross-entropy(Q(G(z, c)), c_cat) + 1/2 ||c_cont - Q_mean(G(z, c))||^2   (InfoGAN)

Every weight is a tf.Variable created by hand (Xavier normal, zero biases); layers are matrix
products. The discriminator's and the generator's (and Q's) weights are separate lists, so
that each optimiser is given only the variables it may change (TF's ``var_list``).
"""

from __future__ import annotations

import tensorflow as tf

from torchflow.tf.layers import ExplicitWeights
from torchflow.tf.layers import check_positive as _positive


def init_weight(fan_in: int, fan_out: int, generator: tf.random.Generator) -> tf.Variable:
    """Xavier (Glorot) normal initialisation: N(0, 2 / (fan_in + fan_out)), as a trainable variable."""
    return tf.Variable(generator.normal([fan_in, fan_out]) * (2.0 / (fan_in + fan_out)) ** 0.5)


def dense(name: str, fan_in: int, fan_out: int, generator: tf.random.Generator) -> dict[str, tf.Variable]:
    """The weight matrix ``<name>_w`` and the zero bias ``<name>_b`` of one layer."""
    return {f"{name}_w": init_weight(fan_in, fan_out, generator), f"{name}_b": tf.Variable(tf.zeros([fan_out]))}


def _bce(logits: tf.Tensor, target: float) -> tf.Tensor:
    """Binary cross-entropy with logits against a constant target, averaged over the batch."""
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(logits) + target, logits))


class GAN(ExplicitWeights):
    """A GAN of two one-hidden-layer perceptrons; ``num_classes > 0`` makes it conditional (:class:`CGAN`)."""

    def __init__(self, noise_dim: int = 100, hidden_dim: int = 128, image_dim: int = 784,
                 num_classes: int = 0, seed: int = 0) -> None:
        _positive(noise_dim=noise_dim, hidden_dim=hidden_dim, image_dim=image_dim)
        self.noise_dim, self.hidden_dim, self.image_dim = noise_dim, hidden_dim, image_dim
        self.num_classes = num_classes
        generator = tf.random.Generator.from_seed(seed)
        self.weights = {
            **dense("discriminator_hidden", image_dim + num_classes, hidden_dim, generator),
            **dense("discriminator_output", hidden_dim, 1, generator),
            **dense("generator_hidden", noise_dim + num_classes, hidden_dim, generator),
            **dense("generator_output", hidden_dim, image_dim, generator),
        }

    # ------------------------------------------------------------ the weight lists
    @property
    def discriminator_weights(self) -> list[tf.Variable]:
        """The var_list of the discriminator's optimiser."""
        return [w for name, w in self.weights.items() if name.startswith("discriminator")]

    @property
    def generator_weights(self) -> list[tf.Variable]:
        """The var_list of the generator's optimiser."""
        return [w for name, w in self.weights.items() if name.startswith("generator")]

    # ------------------------------------------------------------ the two networks
    def condition(self, inputs: tf.Tensor, labels: tf.Tensor | None) -> tf.Tensor:
        """Append the one-hot label to ``inputs`` (a no-op for an unconditional GAN)."""
        if self.num_classes == 0:
            return inputs
        if labels is None:
            raise ValueError("this GAN is conditional: pass the labels too")
        one_hot = tf.one_hot(tf.cast(labels, tf.int32), self.num_classes, dtype=inputs.dtype)
        return tf.concat([inputs, one_hot], axis=1)

    def generator_input(self, noise: tf.Tensor, labels: tf.Tensor | None = None) -> tf.Tensor:
        return self.condition(noise, labels)

    def generator_logits(self, noise: tf.Tensor, labels: tf.Tensor | None = None) -> tf.Tensor:
        """G before its sigmoid: pixel logits (B, image_dim)."""
        w = self.weights
        hidden = tf.nn.relu(self.generator_input(noise, labels) @ w["generator_hidden_w"] + w["generator_hidden_b"])
        return hidden @ w["generator_output_w"] + w["generator_output_b"]

    def generate(self, noise: tf.Tensor, labels: tf.Tensor | None = None) -> tf.Tensor:
        """G(z): images in [0, 1], (B, image_dim)."""
        return tf.sigmoid(self.generator_logits(noise, labels))

    def discriminator_logit(self, images: tf.Tensor, labels: tf.Tensor | None = None) -> tf.Tensor:
        """D before its sigmoid, (B,): the log-odds that ``images`` are real."""
        w = self.weights
        hidden = tf.nn.relu(self.condition(images, labels) @ w["discriminator_hidden_w"] + w["discriminator_hidden_b"])
        return (hidden @ w["discriminator_output_w"] + w["discriminator_output_b"])[:, 0]

    def discriminate(self, images: tf.Tensor, labels: tf.Tensor | None = None) -> tf.Tensor:
        """D(x): the probability that ``images`` are real, (B,)."""
        return tf.sigmoid(self.discriminator_logit(images, labels))

    # ------------------------------------------------------------ the losses
    def discriminator_loss(self, images: tf.Tensor, fake: tf.Tensor,
                           labels: tf.Tensor | None = None) -> tf.Tensor:
        """BCE(D(x), 1) + BCE(D(fake), 0), each averaged over its batch; ``fake`` as given (stop its gradient)."""
        real_logit, fake_logit = self.discriminator_logit(images, labels), self.discriminator_logit(fake, labels)
        return _bce(real_logit, 1.0) + _bce(fake_logit, 0.0)

    def generator_loss(self, noise: tf.Tensor, labels: tf.Tensor | None = None,
                       saturating: bool = False) -> tf.Tensor:
        """BCE(D(G(z)), 1), the non-saturating loss; ``saturating=True``: log(1 - D(G(z))), the minimax one."""
        fake_logit = self.discriminator_logit(self.generate(noise, labels), self.discriminator_labels(labels))
        if saturating:
            return -_bce(fake_logit, 0.0)
        return _bce(fake_logit, 1.0)

    def discriminator_labels(self, labels: tf.Tensor | None) -> tf.Tensor | None:
        """What D is given beside a generated image: the label of a CGAN (InfoGAN's D sees no code)."""
        return labels

    def activations(self, images: tf.Tensor, noise: tf.Tensor,
                    labels: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        """Every intermediate tensor of G on ``noise`` and of D on ``images``, in order: the dimension flow."""
        w = self.weights
        generator_input = self.generator_input(noise, labels)
        generator_hidden = tf.nn.relu(generator_input @ w["generator_hidden_w"] + w["generator_hidden_b"])
        discriminator_input = self.condition(images, self.discriminator_labels(labels))
        discriminator_hidden = tf.nn.relu(discriminator_input @ w["discriminator_hidden_w"]
                                          + w["discriminator_hidden_b"])
        return {
            "noise": generator_input, "generator_hidden": generator_hidden,
            "generated": self.generate(noise, labels),
            "discriminator_input": discriminator_input, "discriminator_hidden": discriminator_hidden,
            "D(x)": self.discriminate(images, self.discriminator_labels(labels))[:, None],
        }


class CGAN(GAN):
    """Conditional GAN: the one-hot label joins the input of the generator and of the discriminator."""

    def __init__(self, noise_dim: int = 100, hidden_dim: int = 128, image_dim: int = 784,
                 num_classes: int = 10, seed: int = 0) -> None:
        if num_classes < 1:
            raise ValueError("a CGAN needs num_classes >= 1")
        super().__init__(noise_dim, hidden_dim, image_dim, num_classes, seed)


class InfoGAN(GAN):
    """InfoGAN: a code c = (categorical, continuous) joins the noise, and Q recovers c from G(z, c)."""

    def __init__(self, noise_dim: int = 16, num_categories: int = 10, num_continuous: int = 2,
                 hidden_dim: int = 128, generator_hidden_dim: int = 256, image_dim: int = 784,
                 shared_body: bool = False, seed: int = 0) -> None:
        _positive(noise_dim=noise_dim, num_categories=num_categories, num_continuous=num_continuous,
                  hidden_dim=hidden_dim, generator_hidden_dim=generator_hidden_dim, image_dim=image_dim)
        self.noise_dim, self.hidden_dim, self.image_dim, self.num_classes = noise_dim, hidden_dim, image_dim, 0
        self.num_categories, self.num_continuous = num_categories, num_continuous
        self.code_dim = num_categories + num_continuous
        self.shared_body = shared_body  # Q reads D's hidden layer (the paper) instead of a layer of its own
        generator = tf.random.Generator.from_seed(seed)
        self.weights = {
            **dense("discriminator_hidden", image_dim, hidden_dim, generator),
            **dense("discriminator_output", hidden_dim, 1, generator),
            **dense("generator_hidden", noise_dim + self.code_dim, generator_hidden_dim, generator),
            **dense("generator_output", generator_hidden_dim, image_dim, generator),
            **({} if shared_body else dense("q_hidden", image_dim, hidden_dim, generator)),
            **dense("q_category", hidden_dim, num_categories, generator),
            **dense("q_continuous", hidden_dim, num_continuous, generator),
        }

    @property
    def q_weights(self) -> list[tf.Variable]:
        """Q's list (its hidden layer and heads, or the heads alone with ``shared_body``): given to the
        optimiser of the generator (Q of its own) or of the discriminator (``shared_body``, the paper)."""
        return [w for name, w in self.weights.items() if name.startswith("q_")]

    def code(self, categories: tf.Tensor, continuous: tf.Tensor) -> tf.Tensor:
        """c = one-hot(categories) ++ continuous, (B, code_dim)."""
        if continuous.shape[-1] != self.num_continuous:
            raise ValueError(f"expected {self.num_continuous} continuous codes, got {continuous.shape[-1]}")
        one_hot = tf.one_hot(tf.cast(categories, tf.int32), self.num_categories, dtype=continuous.dtype)
        return tf.concat([one_hot, continuous], axis=1)

    def generator_input(self, noise: tf.Tensor, labels: tf.Tensor | None = None) -> tf.Tensor:
        """z ++ c: here ``labels`` is the code made by :meth:`code`."""
        if labels is None or labels.shape[-1] != self.code_dim:
            raise ValueError(f"InfoGAN's generator needs a code of {self.code_dim} values: use model.code(...)")
        return tf.concat([noise, labels], axis=1)

    def discriminator_labels(self, labels: tf.Tensor | None) -> None:
        return None

    def q(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Q(c|x): the logits of the categorical code (B, num_categories), the means of the continuous (B, k)."""
        w = self.weights
        hidden = self.q_hidden(images)
        means = hidden @ w["q_continuous_w"] + w["q_continuous_b"]
        return hidden @ w["q_category_w"] + w["q_category_b"], means

    def q_hidden(self, images: tf.Tensor) -> tf.Tensor:
        """Q's hidden layer: its own (B, hidden_dim), or with ``shared_body`` the discriminator's."""
        w = self.weights
        prefix = "discriminator_hidden" if self.shared_body else "q_hidden"
        return tf.nn.relu(images @ w[f"{prefix}_w"] + w[f"{prefix}_b"])

    def info_loss(self, images: tf.Tensor, categories: tf.Tensor,
                  continuous: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """-E[log Q(c|x)] up to constants: (cross-entropy of the category, 1/2 squared error of the continuous code)."""
        logits, means = self.q(images)
        categorical = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            tf.cast(categories, tf.int32), logits))
        return categorical, 0.5 * tf.reduce_mean(tf.reduce_sum((continuous - means) ** 2, 1))

    def generator_info_losses(self, noise: tf.Tensor, categories: tf.Tensor, continuous: tf.Tensor):
        """One pass of G(z, c) scored by D and by Q: (BCE(D(G), 1), categorical loss, continuous loss)."""
        fake = self.generate(noise, self.code(categories, continuous))
        adversarial = _bce(self.discriminator_logit(fake), 1.0)
        return (adversarial, *self.info_loss(fake, categories, continuous))

    def activations(self, images: tf.Tensor, noise: tf.Tensor,
                    labels: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        flow = super().activations(images, noise, labels)
        logits, means = self.q(flow["generated"])
        return {**flow, "q_hidden": self.q_hidden(flow["generated"]),
                "Q(c_cat|x)": tf.nn.softmax(logits, 1), "Q mean(c_cont|x)": means}


# ------------------------------------------------------------ the training steps
def train_step(model: GAN, optimizers: tuple, images: tf.Tensor, noise: tf.Tensor,
               labels: tf.Tensor | None = None, saturating: bool = False) -> dict[str, tf.Tensor]:
    """One D step, then one G step, of a GAN or a CGAN (``labels``: the batch's classes, given to both).

    ``optimizers`` is ((D's optimiser, its var_list), (G's optimiser, its var_list)): a Keras optimiser
    does not hold its variables, so each comes with the list it may change (TF 1's ``var_list``); the
    same optimiser twice with every variable is the page's one-optimiser demonstration. Trace it
    inside a ``tf.function``. Returns the D loss (before D's update) and the G loss (after it).
    """
    (d_optimizer, d_vars), (g_optimizer, g_vars) = optimizers
    # G runs before the tape opens, so the tape cannot record G; stop_gradient changes nothing here (it
    # would, were G called inside the tape, as on the DCGAN page) and only marks the fake as a constant.
    fake = tf.stop_gradient(model.generate(noise, labels))  # D step: the tape records nothing of G
    with tf.GradientTape() as tape:
        d_loss = model.discriminator_loss(images, fake, labels)
    gradients = tape.gradient(d_loss, d_vars)  # None for a variable the loss does not reach: skipped
    d_optimizer.apply_gradients([(g, v) for g, v in zip(gradients, d_vars) if g is not None])
    with tf.GradientTape() as tape:  # G step: through the new D, into G
        g_loss = model.generator_loss(noise, labels, saturating=saturating)
    gradients = tape.gradient(g_loss, g_vars)
    g_optimizer.apply_gradients([(g, v) for g, v in zip(gradients, g_vars) if g is not None])
    return {"discriminator": d_loss, "generator": g_loss}


def update_average(averaged: list[tf.Variable], weights: list[tf.Variable], decay: float) -> None:
    """The averaged generator's update, in place, after a training step: each averaged weight becomes
    ``decay * averaged + (1 - decay) * weight``, an exponential moving average over about
    ``1 / (1 - decay)`` steps (Yazici et al., 2019). No optimiser holds the averaged weights."""
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"the decay must be in [0, 1), got {decay}")
    for average, weight in zip(averaged, weights, strict=True):
        average.assign(decay * average + (1.0 - decay) * weight)


def infogan_train_step(model: InfoGAN, optimizers: tuple, images: tf.Tensor, noise: tf.Tensor,
                       categories: tf.Tensor, continuous: tf.Tensor, categorical_weight: float = 1.0,
                       continuous_weight: float = 1.0, q_with_discriminator: bool | None = None,
                       ) -> dict[str, tf.Tensor]:
    """One D step, then one G step, of InfoGAN with the code (``categories``, ``continuous``).

    The information loss, lambda_cat * cross-entropy + lambda_cont * 1/2 squared error, joins the G step
    always, and the D step when Q is trained with D (``q_with_discriminator``, by default ``shared_body``:
    the paper; Q's weights are then in D's var_list, otherwise in G's). ``optimizers`` as for
    :func:`train_step`. Returns the D loss (the GAN part, before D's update), G's adversarial loss and
    the G step's two information losses.
    """
    (d_optimizer, d_vars), (g_optimizer, g_vars) = optimizers
    q_with_discriminator = model.shared_body if q_with_discriminator is None else q_with_discriminator
    fake = tf.stop_gradient(model.generate(noise, model.code(categories, continuous)))  # D step: nothing of G
    with tf.GradientTape() as tape:
        d_loss = model.discriminator_loss(images, fake)
        categorical, cont = model.info_loss(fake, categories, continuous)  # Q reading the code back
        information = categorical_weight * categorical + continuous_weight * cont
        dq_loss = d_loss + information if q_with_discriminator else d_loss
    gradients = tape.gradient(dq_loss, d_vars)
    d_optimizer.apply_gradients([(g, v) for g, v in zip(gradients, d_vars) if g is not None])
    with tf.GradientTape() as tape:  # G step
        adversarial, categorical, cont = model.generator_info_losses(noise, categories, continuous)
        information = categorical_weight * categorical + continuous_weight * cont
        g_loss = adversarial + information  # G learns to draw images whose code Q reads back
    gradients = tape.gradient(g_loss, g_vars)
    g_optimizer.apply_gradients([(g, v) for g, v in zip(gradients, g_vars) if g is not None])
    return {"discriminator": d_loss, "generator": adversarial, "categorical": categorical, "continuous": cont}
