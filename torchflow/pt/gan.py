"""Generative adversarial nets with explicit weights -- the PyTorch twin.

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

Every weight is a tensor created by hand (Xavier normal, zero biases); layers are matrix
products. The discriminator's and the generator's (and Q's) weights are separate lists, so
that each optimiser is given only the weights it may change.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from torchflow.pt.layers import ExplicitWeights
from torchflow.pt.layers import check_positive as _positive


def init_weight(fan_in: int, fan_out: int, generator: torch.Generator) -> torch.Tensor:
    """Xavier (Glorot) normal initialisation: N(0, 2 / (fan_in + fan_out)), as a trainable leaf tensor."""
    return (torch.randn(fan_in, fan_out, generator=generator) * (2.0 / (fan_in + fan_out)) ** 0.5).requires_grad_()


def dense(name: str, fan_in: int, fan_out: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """The weight matrix ``<name>_w`` and the zero bias ``<name>_b`` of one layer."""
    return {f"{name}_w": init_weight(fan_in, fan_out, generator), f"{name}_b": torch.zeros(fan_out, requires_grad=True)}


class GAN(ExplicitWeights):
    """A GAN of two one-hidden-layer perceptrons; ``num_classes > 0`` makes it conditional (:class:`CGAN`)."""

    def __init__(self, noise_dim: int = 100, hidden_dim: int = 128, image_dim: int = 784,
                 num_classes: int = 0, seed: int = 0) -> None:
        _positive(noise_dim=noise_dim, hidden_dim=hidden_dim, image_dim=image_dim)
        self.noise_dim, self.hidden_dim, self.image_dim = noise_dim, hidden_dim, image_dim
        self.num_classes = num_classes
        generator = torch.Generator().manual_seed(seed)
        self.weights = {
            **dense("discriminator_hidden", image_dim + num_classes, hidden_dim, generator),
            **dense("discriminator_output", hidden_dim, 1, generator),
            **dense("generator_hidden", noise_dim + num_classes, hidden_dim, generator),
            **dense("generator_output", hidden_dim, image_dim, generator),
        }

    # ------------------------------------------------------------ the weight lists
    @property
    def discriminator_weights(self) -> list[torch.Tensor]:
        """The list the discriminator's optimiser is given."""
        return [w for name, w in self.weights.items() if name.startswith("discriminator")]

    @property
    def generator_weights(self) -> list[torch.Tensor]:
        """The list the generator's optimiser is given."""
        return [w for name, w in self.weights.items() if name.startswith("generator")]

    # ------------------------------------------------------------ the two networks
    def condition(self, inputs: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Append the one-hot label to ``inputs`` (a no-op for an unconditional GAN)."""
        if self.num_classes == 0:
            return inputs
        if labels is None:
            raise ValueError("this GAN is conditional: pass the labels too")
        one_hot = F.one_hot(labels.long(), self.num_classes).to(inputs.dtype)
        return torch.cat([inputs, one_hot], dim=1)

    def generator_input(self, noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.condition(noise, labels)

    def generator_logits(self, noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """G before its sigmoid: pixel logits (B, image_dim)."""
        w = self.weights
        hidden = torch.relu(self.generator_input(noise, labels) @ w["generator_hidden_w"] + w["generator_hidden_b"])
        return hidden @ w["generator_output_w"] + w["generator_output_b"]

    def generate(self, noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """G(z): images in [0, 1], (B, image_dim)."""
        return torch.sigmoid(self.generator_logits(noise, labels))

    def discriminator_logit(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """D before its sigmoid, (B,): the log-odds that ``images`` are real."""
        w = self.weights
        hidden = torch.relu(self.condition(images, labels) @ w["discriminator_hidden_w"] + w["discriminator_hidden_b"])
        return (hidden @ w["discriminator_output_w"] + w["discriminator_output_b"])[:, 0]

    def discriminate(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """D(x): the probability that ``images`` are real, (B,)."""
        return torch.sigmoid(self.discriminator_logit(images, labels))

    # ------------------------------------------------------------ the losses
    def discriminator_loss(self, images: torch.Tensor, fake: torch.Tensor,
                           labels: torch.Tensor | None = None) -> torch.Tensor:
        """BCE(D(x), 1) + BCE(D(fake), 0), each averaged over its batch; ``fake`` as given (detach it)."""
        real_logit, fake_logit = self.discriminator_logit(images, labels), self.discriminator_logit(fake, labels)
        return (F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
                + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit)))

    def generator_loss(self, noise: torch.Tensor, labels: torch.Tensor | None = None,
                       saturating: bool = False) -> torch.Tensor:
        """BCE(D(G(z)), 1), the non-saturating loss; ``saturating=True``: log(1 - D(G(z))), the minimax one."""
        fake_logit = self.discriminator_logit(self.generate(noise, labels), self.discriminator_labels(labels))
        if saturating:
            return -F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
        return F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))

    def discriminator_labels(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        """What D is given beside a generated image: the label of a CGAN (InfoGAN's D sees no code)."""
        return labels

    def activations(self, images: torch.Tensor, noise: torch.Tensor,
                    labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Every intermediate tensor of G on ``noise`` and of D on ``images``, in order: the dimension flow."""
        w = self.weights
        generator_input = self.generator_input(noise, labels)
        generator_hidden = torch.relu(generator_input @ w["generator_hidden_w"] + w["generator_hidden_b"])
        discriminator_input = self.condition(images, self.discriminator_labels(labels))
        discriminator_hidden = torch.relu(discriminator_input @ w["discriminator_hidden_w"]
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
        generator = torch.Generator().manual_seed(seed)
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
    def q_weights(self) -> list[torch.Tensor]:
        """Q's list (its hidden layer and heads, or the heads alone with ``shared_body``): given to the
        optimiser of the generator (Q of its own) or of the discriminator (``shared_body``, the paper)."""
        return [w for name, w in self.weights.items() if name.startswith("q_")]

    def code(self, categories: torch.Tensor, continuous: torch.Tensor) -> torch.Tensor:
        """c = one-hot(categories) ++ continuous, (B, code_dim)."""
        if continuous.shape[-1] != self.num_continuous:
            raise ValueError(f"expected {self.num_continuous} continuous codes, got {continuous.shape[-1]}")
        one_hot = F.one_hot(categories.long(), self.num_categories).to(continuous.dtype)
        return torch.cat([one_hot, continuous], dim=1)

    def generator_input(self, noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """z ++ c: here ``labels`` is the code made by :meth:`code`."""
        if labels is None or labels.shape[-1] != self.code_dim:
            raise ValueError(f"InfoGAN's generator needs a code of {self.code_dim} values: use model.code(...)")
        return torch.cat([noise, labels], dim=1)

    def discriminator_labels(self, labels: torch.Tensor | None) -> None:
        return None

    def q(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Q(c|x): the logits of the categorical code (B, num_categories), the means of the continuous (B, k)."""
        w = self.weights
        hidden = self.q_hidden(images)
        means = hidden @ w["q_continuous_w"] + w["q_continuous_b"]
        return hidden @ w["q_category_w"] + w["q_category_b"], means

    def q_hidden(self, images: torch.Tensor) -> torch.Tensor:
        """Q's hidden layer: its own (B, hidden_dim), or with ``shared_body`` the discriminator's."""
        w = self.weights
        prefix = "discriminator_hidden" if self.shared_body else "q_hidden"
        return torch.relu(images @ w[f"{prefix}_w"] + w[f"{prefix}_b"])

    def info_loss(self, images: torch.Tensor, categories: torch.Tensor,
                  continuous: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-E[log Q(c|x)] up to constants: (cross-entropy of the category, 1/2 squared error of the continuous code)."""
        logits, means = self.q(images)
        categorical = F.cross_entropy(logits, categories.long())
        return categorical, 0.5 * ((continuous - means) ** 2).sum(1).mean()

    def generator_info_losses(self, noise: torch.Tensor, categories: torch.Tensor, continuous: torch.Tensor):
        """One pass of G(z, c) scored by D and by Q: (BCE(D(G), 1), categorical loss, continuous loss)."""
        fake = self.generate(noise, self.code(categories, continuous))
        fake_logit = self.discriminator_logit(fake)
        adversarial = F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))
        return (adversarial, *self.info_loss(fake, categories, continuous))

    def activations(self, images: torch.Tensor, noise: torch.Tensor,
                    labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        flow = super().activations(images, noise, labels)
        logits, means = self.q(flow["generated"])
        return {**flow, "q_hidden": self.q_hidden(flow["generated"]),
                "Q(c_cat|x)": torch.softmax(logits, 1), "Q mean(c_cont|x)": means}


# ------------------------------------------------------------ the training steps
def train_step(model: GAN, optimizers: tuple, images: torch.Tensor, noise: torch.Tensor,
               labels: torch.Tensor | None = None, saturating: bool = False) -> dict[str, torch.Tensor]:
    """One D step, then one G step, of a GAN or a CGAN (``labels``: the batch's classes, given to both).

    ``optimizers`` is (D's optimiser, G's optimiser), each holding its network's list; the same optimiser
    twice, holding every weight, is the page's one-optimiser demonstration. Returns the D loss (before
    D's update) and the G loss (after it), detached.
    """
    d_optimizer, g_optimizer = optimizers
    fake = model.generate(noise, labels).detach()  # D step: backward stops at D's input, nothing reaches G
    d_loss = model.discriminator_loss(images, fake, labels)
    d_optimizer.zero_grad()
    d_loss.backward()
    d_optimizer.step()  # D's weights (a shared optimiser: G's have no gradient, Adam skips them)
    g_loss = model.generator_loss(noise, labels, saturating=saturating)  # G step: through the new D, into G
    g_optimizer.zero_grad()
    g_loss.backward()  # D's weights get gradients too: the G optimiser does not hold them
    g_optimizer.step()
    return {"discriminator": d_loss.detach(), "generator": g_loss.detach()}


@torch.no_grad()
def update_average(averaged: list[torch.Tensor], weights: list[torch.Tensor], decay: float) -> None:
    """The averaged generator's update, in place, after a training step: each averaged weight becomes
    ``decay * averaged + (1 - decay) * weight``, an exponential moving average over about
    ``1 / (1 - decay)`` steps (Yazici et al., 2019). No optimiser holds the averaged weights."""
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"the decay must be in [0, 1), got {decay}")
    for average, weight in zip(averaged, weights, strict=True):
        average.mul_(decay).add_(weight.detach(), alpha=1.0 - decay)


def infogan_train_step(model: InfoGAN, optimizers: tuple, images: torch.Tensor, noise: torch.Tensor,
                       categories: torch.Tensor, continuous: torch.Tensor, categorical_weight: float = 1.0,
                       continuous_weight: float = 1.0, q_with_discriminator: bool | None = None,
                       ) -> dict[str, torch.Tensor]:
    """One D step, then one G step, of InfoGAN with the code (``categories``, ``continuous``).

    The information loss, lambda_cat * cross-entropy + lambda_cont * 1/2 squared error, joins the G step
    always, and the D step when Q is trained with D (``q_with_discriminator``, by default ``shared_body``:
    the paper; Q's weights are then in D's optimiser, otherwise in G's). Returns the D loss (the GAN
    part, before D's update), G's adversarial loss and the G step's two information losses, detached.
    """
    d_optimizer, g_optimizer = optimizers
    q_with_discriminator = model.shared_body if q_with_discriminator is None else q_with_discriminator
    fake = model.generate(noise, model.code(categories, continuous)).detach()  # D step: no gradient into G
    categorical, cont = model.info_loss(fake, categories, continuous)  # Q reading the code back
    d_loss = model.discriminator_loss(images, fake)
    information = categorical_weight * categorical + continuous_weight * cont
    d_optimizer.zero_grad()
    (d_loss + information if q_with_discriminator else d_loss).backward()
    d_optimizer.step()
    adversarial, categorical, cont = model.generator_info_losses(noise, categories, continuous)  # G step
    information = categorical_weight * categorical + continuous_weight * cont
    g_optimizer.zero_grad()
    (adversarial + information).backward()  # G learns to draw images whose code Q reads back
    g_optimizer.step()
    return {"discriminator": d_loss.detach(), "generator": adversarial.detach(),
            "categorical": categorical.detach(), "continuous": cont.detach()}
