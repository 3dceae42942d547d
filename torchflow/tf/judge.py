"""A small convolutional classifier of 28x28 images -- the TensorFlow twin.

Used as the book's *judge*: it scores generated images (label accuracy of
conditional samples, Fréchet distance in its feature space).

Initialisation, the same in both twins: Glorot uniform weights and zero biases
(declared; see :mod:`torchflow.tf.layers`).

    image (B, 28, 28, 1) -> conv 3x3, 16 -> relu -> max-pool 2   -> (B, 14, 14, 16)
                         -> conv 3x3, 32 -> relu -> max-pool 2   -> (B, 7, 7, 32)
                         -> flatten -> dense 128 -> relu (features) -> dense 10 (logits)
"""

from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import GLOROT


class JudgeNet(keras.Model):
    def __init__(self, num_classes: int = 10, channels: tuple[int, int] = (16, 32),
                 hidden_dim: int = 128, image_size: int = 28) -> None:
        super().__init__()
        self.conv1 = keras.layers.Conv2D(channels[0], kernel_size=3, padding="same", **GLOROT)
        self.conv2 = keras.layers.Conv2D(channels[1], kernel_size=3, padding="same", **GLOROT)
        self.pool = keras.layers.MaxPool2D(2)
        self.flatten = keras.layers.Flatten()
        self.fc1 = keras.layers.Dense(hidden_dim, **GLOROT)
        self.fc2 = keras.layers.Dense(num_classes, **GLOROT)
        self(tf.zeros([1, image_size, image_size, 1]))  # create the weights now

    def features(self, images: tf.Tensor) -> tf.Tensor:
        """The (B, hidden_dim) representation before the last layer."""
        x = self.pool(tf.nn.relu(self.conv1(images)))
        x = self.pool(tf.nn.relu(self.conv2(x)))
        return tf.nn.relu(self.fc1(self.flatten(x)))

    def call(self, images: tf.Tensor) -> tf.Tensor:
        return self.fc2(self.features(images))
