"""What the TensorFlow NCE twin's output-table layout costs per step (studies/embeddings/pages-cpu/results.md).

``tf.nn.nce_loss`` reads its weights as (V, D), one row per word. A ``Dense`` layer stores its kernel
as (D, V), so handing it to ``nce_loss`` needs ``tf.transpose`` (a copy of the whole table) every
step; ``OutputTable`` in torchflow/tf/nce.py stores (V, D). This times both layouts for the NCE step
and the full-softmax step at the page's sizes (V = 3,000, D = 64, batch 128, 64 noise words), in
CPU time, with and without XLA. Run: ``OMP_NUM_THREADS=1 python studies/embeddings/pages-cpu/nce_layout.py``.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

V, D, B, S = 3_000, 64, 128, 64
STEPS = 300


class Model(keras.Model):
    def __init__(self, layout: str) -> None:
        super().__init__()
        self.layout = layout
        self.embeddings = keras.layers.Embedding(V, D)
        self.embeddings.build((None,))
        if layout == "dense (D, V)":
            self.dense = keras.layers.Dense(V)
            self.dense.build((None, D))
        else:
            self.weight = self.add_weight(shape=(V, D), initializer="glorot_uniform", name="weight")
            self.bias = self.add_weight(shape=(V,), initializer="zeros", name="bias")

    def table(self) -> tuple[tf.Tensor, tf.Tensor]:
        if self.layout == "dense (D, V)":
            return tf.transpose(self.dense.kernel), self.dense.bias
        return self.weight, self.bias

    def nce_loss(self, center, context, sampled, true_expected, sampled_expected):
        weight, bias = self.table()
        return tf.reduce_mean(tf.nn.nce_loss(
            weights=weight, biases=bias, labels=tf.reshape(context, [-1, 1]), inputs=self.embeddings(center),
            num_sampled=S, num_classes=V,
            sampled_values=(sampled, tf.reshape(true_expected, [-1, 1]), sampled_expected)))

    def softmax_loss(self, center, context):
        weight, bias = self.table()
        logits = tf.matmul(self.embeddings(center), weight, transpose_b=True) + bias
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(context, logits))


def cpu_ms_per_step(layout: str, loss_name: str, jit: bool) -> float:
    model, optimizer = Model(layout), keras.optimizers.Adam(1e-2, epsilon=1e-8)

    @tf.function(jit_compile=jit)
    def step(*batch):
        with tf.GradientTape() as tape:
            loss = getattr(model, loss_name)(*batch)
        gradients = [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    rng = np.random.default_rng(0)
    batches = [(rng.integers(0, V, B), rng.integers(0, V, B), rng.integers(0, V, S),
                np.full(B, 0.02, np.float32), np.full(S, 0.02, np.float32)) for _ in range(STEPS)]
    if loss_name == "softmax_loss":
        batches = [batch[:2] for batch in batches]
    float(step(*batches[0]))  # tracing and compiling
    started = time.process_time()
    for batch in batches[1:]:
        float(step(*batch))
    return 1000 * (time.process_time() - started) / (STEPS - 1)


if __name__ == "__main__":
    print("| output table | XLA | NCE CPU ms/step | full softmax CPU ms/step | speed-up |")
    print("|---|---|---|---|---|")
    for layout in ("dense (D, V)", "OutputTable (V, D)"):
        for jit in (True, False):
            nce, softmax = (cpu_ms_per_step(layout, name, jit) for name in ("nce_loss", "softmax_loss"))
            print(f"| {layout} | {'yes' if jit else 'no'} | {nce:.2f} | {softmax:.2f} | {softmax / nce:.2f}× |",
                  flush=True)
