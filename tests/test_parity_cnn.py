"""Parity of the CNN twins: the classifier, the STN (sampler and whole model) and ResNet-18.

The PyTorch weights are copied into the Keras twin (:func:`torchflow.convert.copy_torch_to_keras`),
then both see the same batch in evaluation mode (dropout off, batch norm on running statistics).

Tolerance: float32 throughout. Activations, logits and losses: relative 1e-5 with an
absolute 1e-5 (ResNet-18, 20 layers deep: 1e-4). Gradients, which sum a batch of products
in a framework-specific order: relative 1e-4 plus an absolute 1e-5 of the largest gradient of
that weight (ResNet-18: 1e-3 and 1e-4).
"""

import numpy as np
import pytest
import tensorflow as tf
import torch

from torchflow.convert import copy_torch_to_keras
from torchflow.data.augment import affine_sample, random_affine
from torchflow.convert import conv_to_torch, dense_to_torch
from torchflow.pt import cnn as pt_cnn
from torchflow.pt import resnet as pt_resnet
from torchflow.pt import stn as pt_stn
from torchflow.tf import cnn as tf_cnn
from torchflow.tf import resnet as tf_resnet
from torchflow.tf import stn as tf_stn

BATCH = 8


def _state(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def _grads_to_torch_layout(name, grad, flatten_from=None):
    if grad.ndim == 4:
        return conv_to_torch(grad)
    if grad.ndim == 2:
        return dense_to_torch(grad, flatten_from)
    return grad


def _compare_loss_and_gradients(torch_model, tf_model, images, labels, flatten_from, rtol=1e-4, atol=1e-5):
    """Same cross-entropy and same gradient for every trainable weight (in eval mode)."""
    torch_model.eval()
    torch_loss = torch.nn.functional.cross_entropy(torch_model(torch.as_tensor(images)), torch.as_tensor(labels))
    torch_loss.backward()
    tf_images = tf.convert_to_tensor(images.transpose(0, 2, 3, 1))
    with tf.GradientTape() as tape:
        logits = tf_model(tf_images, training=False)
        tf_loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
    np.testing.assert_allclose(torch_loss.item(), float(tf_loss), rtol=1e-5)
    tf_grads = tape.gradient(tf_loss, tf_model.trainable_variables)
    torch_grads = {n: p.grad.numpy() for n, p in torch_model.named_parameters() if p.grad is not None}
    assert len(torch_grads) == len(tf_grads)
    # Keras lists the variables layer by layer in the order of creation, as PyTorch does
    for (name, torch_grad), tf_grad in zip(torch_grads.items(), tf_grads):
        prefix = name.rsplit(".", 1)[0]
        tf_grad = _grads_to_torch_layout(name, tf_grad.numpy(), flatten_from.get(prefix))
        scale = float(np.abs(torch_grad).max())
        assert scale > 0, f"{name} has no gradient"
        np.testing.assert_allclose(torch_grad, tf_grad, rtol=rtol, atol=atol * scale, err_msg=name)


def _images(channels, size=28, seed=1):
    return np.random.default_rng(seed).random((BATCH, channels, size, size), dtype=np.float32)


@pytest.mark.parametrize("kwargs", [{}, {"channels": (16, 32), "hidden_dim": 64, "dropout": 0.3},
                                    {"in_channels": 1, "image_size": 28}])
def test_classifier_twins_agree(kwargs):
    torch.manual_seed(0)
    torch_model, tf_model = pt_cnn.ConvNet(**kwargs), tf_cnn.ConvNet(**kwargs)
    channels, size = kwargs.get("in_channels", 3), kwargs.get("image_size", 32)
    side = pt_cnn.feature_size(size)
    flatten_from = {"fc1": (torch_model.conv2.out_channels, side, side)}
    copy_torch_to_keras(_state(torch_model), tf_model, flatten_from)
    images = _images(channels, size)
    labels = np.arange(BATCH) % 10
    with torch.no_grad():
        expected = torch_model.eval()(torch.as_tensor(images)).numpy()
    got = tf_model(images.transpose(0, 2, 3, 1), training=False).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    _compare_loss_and_gradients(torch_model, tf_model, images, labels, flatten_from)


def test_sampler_twins_agree_in_value_and_gradient():
    """Same theta, same images -> same grid, same samples, same gradients w.r.t. images and theta."""
    rng = np.random.default_rng(0)
    theta = random_affine(BATCH, rng, max_rotation=60, scale=(0.6, 1.3), max_shift=0.4)
    images = rng.random((BATCH, 3, 13, 17), dtype=np.float32)  # not square: x and y must not be swapped
    weights = rng.standard_normal((BATCH, 3, 11, 9)).astype(np.float32)  # a random linear read-out

    torch_theta = torch.tensor(theta, requires_grad=True)
    torch_images = torch.tensor(images, requires_grad=True)
    torch_grid = pt_stn.affine_grid(torch_theta, 11, 9)
    torch_out = pt_stn.grid_sample(torch_images, torch_grid)
    (torch_out * torch.as_tensor(weights)).sum().backward()

    tf_theta = tf.constant(theta)
    tf_images = tf.constant(images.transpose(0, 2, 3, 1))
    with tf.GradientTape() as tape:
        tape.watch([tf_theta, tf_images])
        tf_grid = tf_stn.affine_grid(tf_theta, 11, 9)
        tf_out = tf_stn.grid_sample(tf_images, tf_grid)
        read_out = tf.reduce_sum(tf_out * weights.transpose(0, 2, 3, 1))
    grad_theta, grad_images = tape.gradient(read_out, [tf_theta, tf_images])

    np.testing.assert_allclose(tf_grid.numpy(), torch_grid.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tf_out.numpy().transpose(0, 3, 1, 2), torch_out.detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad_theta.numpy(), torch_theta.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grad_images.numpy().transpose(0, 3, 1, 2), torch_images.grad.numpy(),
                               rtol=1e-5, atol=1e-5)
    # and the NumPy sampler that distorts the data is the same function (one channel, square)
    square = images[:, 0, :13, :13]
    expected = pt_stn.grid_sample(torch.as_tensor(square[:, None]), pt_stn.affine_grid(torch.as_tensor(theta), 13, 13))
    np.testing.assert_allclose(affine_sample(square, theta), expected[:, 0].numpy(), rtol=1e-5, atol=1e-5)


def test_identity_theta_leaves_images_unchanged():
    images = _images(1)
    theta = np.tile(np.array(pt_stn.IDENTITY, np.float32).reshape(1, 2, 3), (BATCH, 1, 1))
    out = tf_stn.grid_sample(images.transpose(0, 2, 3, 1), tf_stn.affine_grid(tf.constant(theta), 28, 28))
    np.testing.assert_allclose(out.numpy().transpose(0, 3, 1, 2), images, atol=1e-5)


def test_stn_twins_agree_and_start_from_the_identity():
    torch.manual_seed(0)
    torch_model, tf_model = pt_stn.STNClassifier(), tf_stn.STNClassifier()
    flatten_from = {"loc_fc1": (10, 3, 3), "fc1": (20, 4, 4)}
    state = _state(torch_model)
    # a theta that is not the identity, so that the sampler is exercised
    state["loc_fc2.weight"] = np.random.default_rng(2).normal(0, 0.05, (6, 32)).astype(np.float32)
    torch_model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    copy_torch_to_keras(state, tf_model, flatten_from)
    images = _images(1)
    _, theta = pt_stn.STNClassifier().transform(torch.as_tensor(images))
    np.testing.assert_allclose(theta.detach().numpy(), np.tile(np.reshape(pt_stn.IDENTITY, (1, 2, 3)), (BATCH, 1, 1)))
    with torch.no_grad():
        torch_seen, torch_theta = torch_model.eval().transform(torch.as_tensor(images))
    tf_seen, tf_theta = tf_model.transform(images.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(tf_theta.numpy(), torch_theta.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tf_seen.numpy().transpose(0, 3, 1, 2), torch_seen.numpy(), rtol=1e-5, atol=1e-5)
    _compare_loss_and_gradients(torch_model, tf_model, images, np.arange(BATCH) % 10, flatten_from)


def test_dropout_acts_in_training_only():
    images = _images(1)
    torch_model, tf_model = pt_stn.STNClassifier(), tf_stn.STNClassifier()
    x = torch.as_tensor(images)
    with torch.no_grad():
        assert torch.equal(torch_model.eval()(x), torch_model(x))
        assert not torch.equal(torch_model.train()(x), torch_model(x))
    x = images.transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(tf_model(x, training=False), tf_model(x, training=False))
    assert not np.array_equal(tf_model(x, training=True), tf_model(x, training=True))


def test_resnet_twins_agree():
    torch.manual_seed(0)
    torch_model, tf_model = pt_resnet.ResNet18(num_classes=5), tf_resnet.ResNet18(num_classes=5)
    rng = np.random.default_rng(3)
    state = _state(torch_model)
    for key in state:  # non-trivial batch-norm statistics, so that eval mode is really tested
        if key.endswith("running_mean"):
            state[key] = rng.normal(0, 0.1, state[key].shape).astype(np.float32)
        elif key.endswith("running_var"):
            state[key] = rng.uniform(0.5, 1.5, state[key].shape).astype(np.float32)
    torch_model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    copy_torch_to_keras(state, tf_model)
    n_torch = sum(p.numel() for p in torch_model.parameters())
    n_tf = sum(int(np.prod(v.shape)) for v in tf_model.trainable_variables)
    assert n_torch == n_tf
    images = _images(1)
    with torch.no_grad():
        expected = torch_model.eval()(torch.as_tensor(images)).numpy()
        expected_train = torch_model.train()(torch.as_tensor(images)).numpy()  # batch statistics
    np.testing.assert_allclose(tf_model(images.transpose(0, 2, 3, 1)).numpy(), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(tf_model(images.transpose(0, 2, 3, 1), training=True).numpy(), expected_train,
                               rtol=1e-4, atol=1e-4)
    # undo the updates of the running statistics in both twins
    torch_model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    copy_torch_to_keras(state, tf_model)
    _compare_loss_and_gradients(torch_model, tf_model, images, np.arange(BATCH) % 5, {}, rtol=1e-3, atol=1e-4)


def test_resnet_matches_torchvision_and_freezes_its_backbone():
    torchvision = pytest.importorskip("torchvision")
    reference = torchvision.models.resnet18(num_classes=5)
    reference.conv1 = torch.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    model = pt_resnet.ResNet18(num_classes=5)
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert shapes == {k: v.shape for k, v in reference.state_dict().items()}
    reference.load_state_dict(model.state_dict())
    images = torch.as_tensor(_images(1))
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(images), reference.eval()(images))

    model.freeze_backbone()
    model.train()
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    assert model.training and model.fc.training and not model.bn1.training and not model.layer1.training
    tf_model = tf_resnet.ResNet18(num_classes=5)
    tf_model.freeze_backbone()
    assert [v.shape for v in tf_model.trainable_variables] == [(512, 5), (5,)]


def test_twins_have_the_same_signatures():
    import inspect

    for pt_module, tf_module, names in ((pt_cnn, tf_cnn, ["ConvNet", "feature_size"]),
                                        (pt_stn, tf_stn, ["STNClassifier", "affine_grid", "grid_sample"]),
                                        (pt_resnet, tf_resnet, ["ResNet18", "BasicBlock"])):
        for name in names:
            pt_parameters = inspect.signature(getattr(pt_module, name)).parameters.values()
            tf_parameters = inspect.signature(getattr(tf_module, name)).parameters.values()
            assert [(p.name, p.default) for p in pt_parameters] == [(p.name, p.default) for p in tf_parameters], name
