"""A spatial transformer network in front of a small classifier -- the TensorFlow twin.

A localisation network looks at the image and regresses the six numbers of an
affine map :math:`\\theta` (a 2x3 matrix, initialised to the identity). The grid
generator maps every output pixel's normalised coordinates :math:`(x^t, y^t)`
in [-1, 1] to a source point, :math:`(x^s, y^s)^\\top = \\theta\\,(x^t, y^t, 1)^\\top`,
and the bilinear sampler reads the input there:

.. math::

   V_i = \\sum_n \\sum_m U_{nm}\\, \\max(0, 1 - |x^s_i - m|)\\, \\max(0, 1 - |y^s_i - n|)

(with the source point in pixel units). TensorFlow has no such op, so both
steps are written out below, matching PyTorch's ``F.affine_grid`` and
``F.grid_sample`` (``align_corners=False``, zeros outside the image). The
classifier then sees the transformed image. Dropout is active with
``training=True`` only.

Initialisation, the same in both twins (declared, not each framework's
default): Glorot uniform weights and zero biases (see :mod:`torchflow.tf.layers`),
except the localiser's last layer: zero weights and the identity as its bias,
so that training starts from theta = identity.

    image (B, 28, 28, 1) -> localisation: conv 7x7, 8 -> pool -> relu -> conv 5x5, 10 -> pool -> relu
                         -> (B, 3, 3, 10) -> flatten -> dense 32 -> relu -> dense 6 -> theta (B, 2, 3)
    image, theta -> affine grid (B, 28, 28, 2) -> bilinear sample -> (B, 28, 28, 1)
                 -> conv 5x5, 10 -> pool -> relu -> conv 5x5, 20 -> channel dropout -> pool -> relu
                 -> (B, 4, 4, 20) -> flatten -> dense 50 -> relu -> dropout -> dense 10 (logits)
"""

from __future__ import annotations

import keras
import tensorflow as tf

from torchflow.tf.layers import GLOROT

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)  # theta, row by row


def affine_grid(theta: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """Source points (B, height, width, 2), as (x, y) in [-1, 1], of the output pixels' centres."""
    xs = (2.0 * tf.range(width, dtype=theta.dtype) + 1.0) / width - 1.0  # pixel centres
    ys = (2.0 * tf.range(height, dtype=theta.dtype) + 1.0) / height - 1.0
    x_t, y_t = tf.meshgrid(xs, ys)  # (H, W) each
    target = tf.stack([x_t, y_t, tf.ones_like(x_t)], axis=-1)  # (H, W, 3)
    return tf.einsum("hwk,bjk->bhwj", target, theta)  # (B, H, W, 2)


def grid_sample(images: tf.Tensor, grid: tf.Tensor) -> tf.Tensor:
    """Bilinear sampling of (B, H, W, C) images at ``grid``; points outside the image read zero."""
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    h, w = tf.cast(height, images.dtype), tf.cast(width, images.dtype)
    x = ((grid[..., 0] + 1.0) * w - 1.0) / 2.0  # source points in pixel units, (B, H', W')
    y = ((grid[..., 1] + 1.0) * h - 1.0) / 2.0
    x0, y0 = tf.floor(x), tf.floor(y)
    batch_index = tf.broadcast_to(tf.range(batch)[:, None, None], tf.shape(x))
    output = 0.0
    for m, weight_x in ((x0, x0 + 1.0 - x), (x0 + 1.0, x - x0)):  # max(0, 1 - |x - m|) for the 2 nearest m
        for n, weight_y in ((y0, y0 + 1.0 - y), (y0 + 1.0, y - y0)):
            inside = (m >= 0) & (m <= w - 1) & (n >= 0) & (n <= h - 1)
            column = tf.clip_by_value(tf.cast(m, tf.int32), 0, width - 1)
            row = tf.clip_by_value(tf.cast(n, tf.int32), 0, height - 1)
            pixels = tf.gather_nd(images, tf.stack([batch_index, row, column], axis=-1))  # (B, H', W', C)
            weight = weight_x * weight_y * tf.cast(inside, images.dtype)
            output += pixels * weight[..., None]
    return output


class STNClassifier(keras.Model):
    def __init__(self, num_classes: int = 10, use_stn: bool = True, dropout: float = 0.5,
                 image_size: int = 28) -> None:
        super().__init__()
        self.use_stn = use_stn
        if use_stn:  # localisation network: where to look
            self.loc_conv1 = keras.layers.Conv2D(8, kernel_size=7, **GLOROT)
            self.loc_conv2 = keras.layers.Conv2D(10, kernel_size=5, **GLOROT)
            self.loc_fc1 = keras.layers.Dense(32, **GLOROT)
            self.loc_fc2 = keras.layers.Dense(6, kernel_initializer="zeros",  # start from the identity map
                                              bias_initializer=keras.initializers.Constant(IDENTITY))
        # classifier
        self.conv1 = keras.layers.Conv2D(10, kernel_size=5, **GLOROT)
        self.conv2 = keras.layers.Conv2D(20, kernel_size=5, **GLOROT)
        self.channel_dropout = keras.layers.SpatialDropout2D(dropout)
        self.fc1 = keras.layers.Dense(50, **GLOROT)
        self.dropout = keras.layers.Dropout(dropout)
        self.fc2 = keras.layers.Dense(num_classes, **GLOROT)
        self.pool = keras.layers.MaxPool2D(2)
        self.flatten = keras.layers.Flatten()
        self(tf.zeros([1, image_size, image_size, 1]))  # create the weights now

    def localise(self, images: tf.Tensor) -> tf.Tensor:
        """The affine map theta (B, 2, 3) for each image."""
        x = tf.nn.relu(self.pool(self.loc_conv1(images)))  # (B, 11, 11, 8)
        x = tf.nn.relu(self.pool(self.loc_conv2(x)))  # (B, 3, 3, 10)
        x = tf.nn.relu(self.loc_fc1(self.flatten(x)))  # (B, 32)
        return tf.reshape(self.loc_fc2(x), [-1, 2, 3])

    def transform(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """The images the classifier sees, and theta (the identity without an STN)."""
        if not self.use_stn:
            return images, tf.broadcast_to(tf.reshape(tf.constant(IDENTITY), [1, 2, 3]), [tf.shape(images)[0], 2, 3])
        theta = self.localise(images)
        grid = affine_grid(theta, images.shape[1], images.shape[2])
        return grid_sample(images, grid), theta

    def call(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
        x, _ = self.transform(images)
        x = tf.nn.relu(self.pool(self.conv1(x)))  # (B, 12, 12, 10)
        x = tf.nn.relu(self.pool(self.channel_dropout(self.conv2(x), training=training)))  # (B, 4, 4, 20)
        x = tf.nn.relu(self.fc1(self.flatten(x)))  # (B, 50)
        return self.fc2(self.dropout(x, training=training))  # (B, 10)
