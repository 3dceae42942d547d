"""The VAE pages' twins and training steps, for the studies (not imported by the pages).

The pages keep their training step in view; these builders repeat exactly that
step (the training set as one tensor sliced by the shared batch indices, Adam
with epsilon 1e-8 in both frameworks) so that the studies time and tune what
the pages run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Twin:
    name: str
    step: Callable[[np.ndarray], float]  # one optimiser step on the batch of these indices; returns the loss
    generate: Callable[[np.ndarray, np.ndarray | None], np.ndarray]
    loss: Callable[[np.ndarray, np.ndarray | None, np.ndarray], float]  # no update
    model: Any


def torch_twin(images: np.ndarray, labels: np.ndarray | None, *, conditional: bool, lr: float,
               epsilon: float = 1e-8, fused: bool = False, seed: int = 0) -> Twin:
    import torch

    from torchflow.pt.vae import CVAE, VAE

    torch.manual_seed(seed)
    model = CVAE(seed=seed) if conditional else VAE(seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, eps=epsilon, fused=fused or None)
    train_x = torch.as_tensor(images)
    train_y = torch.as_tensor(labels) if conditional else None

    def step(index: np.ndarray) -> float:
        index = torch.from_numpy(index)
        loss = model.loss(train_x[index], None if train_y is None else train_y[index])[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    @torch.no_grad()
    def generate(codes, requested=None):
        return model.generate(torch.as_tensor(codes), None if requested is None else torch.as_tensor(requested)).numpy()

    @torch.no_grad()
    def loss(x, y, noise):
        labels = None if y is None else torch.as_tensor(y)
        return model.loss(torch.as_tensor(x), labels, torch.as_tensor(noise))[0].item()

    return Twin("torch", step, generate, loss, model)


def tf_twin(images: np.ndarray, labels: np.ndarray | None, *, conditional: bool, lr: float,
            epsilon: float = 1e-8, seed: int = 0, xla: bool = False) -> Twin:
    import keras
    import tensorflow as tf

    from torchflow.tf.vae import CVAE, VAE

    keras.utils.set_random_seed(seed)
    model = CVAE(seed=seed) if conditional else VAE(seed=seed)
    optimizer = keras.optimizers.Adam(learning_rate=lr, epsilon=epsilon)
    train_x = tf.constant(images)
    train_y = tf.constant(labels) if conditional else None

    def body(x, y):
        with tf.GradientTape() as tape:
            loss = model.loss(x, y)[0]
        gradients = tape.gradient(loss, model.parameters())
        optimizer.apply_gradients(zip(gradients, model.parameters()))
        return loss

    if xla:  # the pages' step: the batch gathered inside one XLA-compiled function
        compiled = tf.function(lambda index: body(tf.gather(train_x, index), None if train_y is None
                                                  else tf.gather(train_y, index)), jit_compile=True)

        def step(index: np.ndarray) -> float:
            return float(compiled(index))
    else:
        graph_step = tf.function(body)

        def step(index: np.ndarray) -> float:
            return float(graph_step(tf.gather(train_x, index), None if train_y is None else tf.gather(train_y, index)))

    def generate(codes, requested=None):
        return model.generate(codes, requested).numpy()

    @tf.function
    def graph_loss(x, y, noise):
        return model.loss(x, y, noise)[0]

    def loss(x, y, noise):
        return float(graph_loss(x, y, noise))

    return Twin("tensorflow", step, generate, loss, model)


def build(framework: str, *args, **kwargs) -> Twin:
    if framework == "torch":
        return torch_twin(*args, **kwargs)
    kwargs.pop("fused", None)
    return tf_twin(*args, **kwargs)
