"""ResNet-18 (He et al., 2016) for small grey images -- the TensorFlow twin.

The block structure of ``torchvision.models.resnet18`` unchanged: a 7x7 stride-2
stem and a 3x3 stride-2 max-pool, then four stages of two basic blocks (64, 128,
256 and 512 channels; stages 2-4 halve the resolution), global average pooling
and one dense layer ``fc``. Only ``in_channels`` (1 for grey images) and
``num_classes`` differ from ImageNet's. Padding is explicit (``ZeroPadding2D``)
because Keras' ``"same"`` pads a stride-2 convolution asymmetrically, PyTorch
symmetrically. A basic block computes

    y = relu(x' + bn(conv3x3(relu(bn(conv3x3(x))))))

with the shortcut x' = x, or a strided 1x1 conv + batch norm where the shape changes.

Initialisation, torchvision's, declared in both twins: convolutions He normal over
the fan-out with the relu gain, N(0, 2 / (out_channels * kh * kw)); batch norms
weight 1 and bias 0; ``fc`` U(-a, a) with a = 1 / sqrt(fan_in) for weights and
biases (PyTorch's ``nn.Linear`` default, which torchvision keeps). Batch norm:
PyTorch's ``momentum=0.1`` is Keras' ``momentum=0.9`` (one weights the new batch,
the other the old estimate), and the running variance is updated with the
unbiased batch variance (n / (n - 1) times the biased one that normalises the
batch, n values per channel) in both twins: PyTorch does so itself, the Keras
twin through :class:`torchflow.tf.layers.BatchNorm`.

    image (B, 28, 28, 1) -> stem conv 7x7/2 (B, 14, 14, 64) -> max-pool 3x3/2 (B, 7, 7, 64)
      -> layer1 (B, 7, 7, 64) -> layer2 (B, 4, 4, 128) -> layer3 (B, 2, 2, 256) -> layer4 (B, 1, 1, 512)
      -> average pool (B, 512) -> fc (B, num_classes)
"""

from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import BatchNorm


def _conv(channels: int, kernel_size: int, stride: int = 1, padding: int = 0) -> keras.layers.Layer:
    """A bias-free convolution, He normal over the fan-out (torchvision's); explicit padding first."""
    conv = keras.layers.Conv2D(channels, kernel_size, strides=stride, use_bias=False,
                               kernel_initializer=keras.initializers.VarianceScaling(
                                   2.0, mode="fan_out", distribution="untruncated_normal"))
    return keras.Sequential([keras.layers.ZeroPadding2D(padding), conv]) if padding else conv


def _batch_norm() -> BatchNorm:
    return BatchNorm(momentum=0.9, epsilon=1e-5, gamma_initializer="ones", beta_initializer="zeros")  # PyTorch's 0.1


def _dense(in_features: int, units: int) -> keras.layers.Dense:
    """U(-a, a) weights and biases, a = 1 / sqrt(in_features) (torchvision's fc)."""
    bound = in_features**-0.5
    return keras.layers.Dense(units, kernel_initializer=keras.initializers.RandomUniform(-bound, bound),
                              bias_initializer=keras.initializers.RandomUniform(-bound, bound))


class BasicBlock(keras.layers.Layer):
    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv(channels, kernel_size=3, stride=stride, padding=1)
        self.bn1 = _batch_norm()
        self.conv2 = _conv(channels, kernel_size=3, stride=1, padding=1)
        self.bn2 = _batch_norm()
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = keras.Sequential([
                _conv(channels, kernel_size=1, stride=stride),
                _batch_norm(),
            ])

    def call(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x, training=training)
        out = tf.nn.relu(self.bn1(self.conv1(x), training=training))
        out = self.bn2(self.conv2(out), training=training)
        return tf.nn.relu(out + shortcut)


class ResNet18(keras.Model):
    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 widths: tuple[int, int, int, int] = (64, 128, 256, 512)) -> None:
        super().__init__()
        self.backbone_frozen = False
        self.conv1 = _conv(widths[0], kernel_size=7, stride=2, padding=3)
        self.bn1 = _batch_norm()
        self.relu = keras.layers.ReLU()
        self.maxpool = keras.Sequential([keras.layers.ZeroPadding2D(1), keras.layers.MaxPool2D(3, strides=2)])
        stages, previous = [], widths[0]
        for index, width in enumerate(widths):
            stride = 1 if index == 0 else 2
            stages.append(keras.Sequential([BasicBlock(previous, width, stride), BasicBlock(width, width)]))
            previous = width
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = keras.layers.GlobalAveragePooling2D()
        self.flatten = keras.layers.Flatten()
        self.fc = _dense(widths[-1], num_classes)
        self(tf.zeros([1, 28, 28, in_channels]))  # create the weights now

    def features(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
        """The (B, 512) representation that ``fc`` reads."""
        # zero padding before the max-pool equals PyTorch's -inf padding: the inputs are >= 0 after relu
        x = self.maxpool(self.relu(self.bn1(self.conv1(images), training=training)))  # (B, 7, 7, 64)
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x, training=training)  # ... (B, 1, 1, 512)
        return self.flatten(self.avgpool(x))

    def call(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
        return self.fc(self.features(images, training=training))

    def freeze_backbone(self) -> None:
        """Train only ``fc``: no gradients for the rest, whose batch norms keep their running statistics."""
        self.backbone_frozen = True
        for layer in self.layers:
            layer.trainable = layer is self.fc
