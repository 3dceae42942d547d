"""The convolutional classifier of the CIFAR-10 tutorial -- the TensorFlow twin.

Two convolution + max-pool stages and two dense layers, with the tutorial's
defaults (6 and 16 filters of 5x5, 120 hidden units). Widen it with
``channels`` and ``hidden_dim``; ``dropout`` acts only in training mode.

Initialisation, the same in both twins and declared here rather than left to
each framework's default (PyTorch's is a uniform with a = sqrt(5) and uniform
biases, Keras' Glorot uniform with zero biases): Glorot (Xavier) uniform
weights, U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), and zero biases.

    image (B, 32, 32, 3) -> conv 5x5, 6  -> relu -> max-pool 2 -> (B, 14, 14, 6)
                         -> conv 5x5, 16 -> relu -> max-pool 2 -> (B, 5, 5, 16)
                         -> flatten (B, 400) -> dense 120 -> relu -> dropout -> dense 10 (logits)
"""

from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import GLOROT


def feature_size(image_size: int) -> int:
    """Side of the feature maps after two (valid 5x5 conv, 2x2 pool) stages: 32 -> 5, 28 -> 4."""
    return ((image_size - 4) // 2 - 4) // 2


class ConvNet(keras.Model):
    def __init__(self, num_classes: int = 10, in_channels: int = 3, channels: tuple[int, int] = (6, 16),
                 hidden_dim: int = 120, image_size: int = 32, dropout: float = 0.0) -> None:
        super().__init__()
        self.conv1 = keras.layers.Conv2D(channels[0], kernel_size=5, **GLOROT)
        self.conv2 = keras.layers.Conv2D(channels[1], kernel_size=5, **GLOROT)
        self.pool = keras.layers.MaxPool2D(2)
        self.flatten = keras.layers.Flatten()
        self.fc1 = keras.layers.Dense(hidden_dim, **GLOROT)
        self.dropout = keras.layers.Dropout(dropout)
        self.fc2 = keras.layers.Dense(num_classes, **GLOROT)
        self(tf.zeros([1, image_size, image_size, in_channels]))  # create the weights now

    def call(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
        x = self.pool(tf.nn.relu(self.conv1(images)))  # (B, 14, 14, 6)
        x = self.pool(tf.nn.relu(self.conv2(x)))  # (B, 5, 5, 16)
        x = tf.nn.relu(self.fc1(self.flatten(x)))  # (B, 120)
        return self.fc2(self.dropout(x, training=training))  # (B, 10)
