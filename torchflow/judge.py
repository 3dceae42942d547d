"""The judge: a small CNN classifier that scores generated 28x28 images.

It is trained once per dataset source, with whichever framework is installed,
and cached in the data directory as framework-free NumPy weights (PyTorch
layout), so that both twins' samples are scored by the very same network:

* :meth:`Judge.label_accuracy` -- how often the judge sees the requested label
  in conditional samples;
* :meth:`Judge.frechet_distance` -- the Fréchet distance between two sets of
  images in the judge's feature space (an FID with a small, task-specific net).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from torchflow.convert import keras_layer_weights
from torchflow.data.images import load_images
from torchflow.data.store import DataError, atomic_path, data_dir
from torchflow.frameworks import available_frameworks

LAYERS = ("conv1", "conv2", "fc1", "fc2")
FLATTEN = {"fc1": (32, 7, 7)}
EPOCHS, BATCH_SIZE, LEARNING_RATE, SEED = 3, 128, 1e-3, 0


def as_batch(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) or (N, 784) images, uint8 or float in [0, 1] -> float32 (N, 28, 28)."""
    images = np.asarray(images)
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    images = images.reshape(len(images), 28, 28).astype(np.float32) / scale
    if images.min(initial=0) < -1e-3 or images.max(initial=0) > 1 + 1e-3:
        raise ValueError("the judge expects images in [0, 1] (or uint8 in [0, 255])")
    return images


@dataclass
class Judge:
    weights: dict[str, np.ndarray]
    test_accuracy: float
    trained_on: str
    framework: str

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, dataset: str = "fashion-mnist") -> Judge:
        """The cached judge for ``dataset``, training it first if there is none."""
        train = load_images(dataset, "train")
        kind = "full" if train.info.note == "" else "subset"
        path = data_dir() / "judge" / f"{dataset}-{kind}.npz"
        if path.exists():
            try:
                return cls._read(path)
            except (OSError, ValueError, KeyError) as error:
                raise DataError(f"the cached judge {path} is unreadable ({error}); delete it to retrain") from error
        judge = cls.train(train, load_images(dataset, "test"))
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **judge.weights, _meta=np.array(json.dumps(
                    {"test_accuracy": judge.test_accuracy, "trained_on": judge.trained_on,
                     "framework": judge.framework})))
        return judge

    @classmethod
    def _read(cls, path: Path) -> Judge:
        with np.load(path) as archive:
            meta = json.loads(str(archive["_meta"]))
            weights = {k: archive[k] for k in archive.files if k != "_meta"}
        return cls(weights, meta["test_accuracy"], meta["trained_on"], meta["framework"])

    @classmethod
    def train(cls, train, test) -> Judge:
        frameworks = available_frameworks()
        if not frameworks:
            raise RuntimeError("the judge needs PyTorch or TensorFlow: `pip install torch` or `pip install tensorflow`")
        framework = frameworks[0]
        started = time.perf_counter()
        images, labels = as_batch(train.images), train.labels
        weights = (_train_torch if framework == "torch" else _train_tf)(images, labels)
        judge = cls(weights, 0.0, "", framework)
        judge.test_accuracy = float((judge.predict(test.images) == test.labels).mean())
        judge.trained_on = (f"{train.describe()} ({EPOCHS} epochs, {framework}, "
                            f"{time.perf_counter() - started:.0f} s)")
        return judge

    # ------------------------------------------------------------------ scoring
    def _forward(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        batch = as_batch(images)
        if self.framework_here() == "torch":
            import torch

            from torchflow.pt.judge import JudgeNet

            model = JudgeNet()
            model.load_state_dict({k: torch.as_tensor(v) for k, v in self.weights.items()})
            model.eval()
            with torch.no_grad():
                features = model.features(torch.as_tensor(batch[:, None]))
                return features.numpy(), model.fc2(features).numpy()
        from torchflow.tf.judge import JudgeNet as KerasCNN

        model = KerasCNN()
        for name in LAYERS:
            getattr(model, name).set_weights(keras_layer_weights(None, self.weights, name, FLATTEN.get(name)))
        features = model.features(batch[..., None])
        return features.numpy(), model.fc2(features).numpy()

    @staticmethod
    def framework_here() -> str:
        frameworks = available_frameworks()
        if not frameworks:
            raise RuntimeError("the judge needs PyTorch or TensorFlow installed")
        return frameworks[0]

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Predicted labels of ``images``."""
        return np.concatenate([self._forward(images[i : i + 1000])[1].argmax(1)
                               for i in range(0, len(images), 1000)])

    def features(self, images: np.ndarray) -> np.ndarray:
        return np.concatenate([self._forward(images[i : i + 1000])[0] for i in range(0, len(images), 1000)])

    def label_accuracy(self, images: np.ndarray, requested: np.ndarray) -> float:
        """The fraction of ``images`` the judge classifies as their ``requested`` label."""
        return float((self.predict(images) == np.asarray(requested)).mean())

    def frechet_distance(self, images_a: np.ndarray, images_b: np.ndarray) -> float:
        """Fréchet distance between Gaussians fitted to the judge's features of two image sets."""
        return frechet_distance(self.features(images_a), self.features(images_b))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), with the root via eigenvalues."""
    mean_a, mean_b = features_a.mean(0), features_b.mean(0)
    cov_a, cov_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    # Tr((S_a S_b)^(1/2)) = sum of sqrt of eigenvalues of S_a^(1/2) S_b S_a^(1/2)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def _train_torch(images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    import torch

    from torchflow.data.wrappers import torch_loader
    from torchflow.pt.judge import JudgeNet

    torch.manual_seed(SEED)
    model = JudgeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loader = torch_loader(images[:, None], labels, batch_size=BATCH_SIZE, seed=SEED)
    for _ in range(EPOCHS):
        for batch, target in loader:
            loss = torch.nn.functional.cross_entropy(model(batch), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _train_tf(images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    import keras

    from torchflow.convert import torch_layer_weights
    from torchflow.tf.judge import JudgeNet

    keras.utils.set_random_seed(SEED)
    model = JudgeNet()
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(images[..., None], labels, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0)
    weights: dict[str, np.ndarray] = {}
    for name in LAYERS:
        weights.update(torch_layer_weights(getattr(model, name), name, FLATTEN.get(name)))
    return weights
