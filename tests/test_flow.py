"""Dimension flows traced from the twins: same shapes in both frameworks, and a clear error when not."""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from torchflow.flow import FlowMismatch, Step, compare_flows, draw_flow, draw_flows, trace, trace_twins  # noqa: E402
from torchflow.pt.judge import JudgeNet as TorchCNN  # noqa: E402
from torchflow.tf.judge import JudgeNet as KerasCNN  # noqa: E402

IMAGES = np.zeros((3, 784), np.float32)
LABELS = np.array([0, 4, 9])


def shapes(steps):
    return [step.shape for step in steps]


def test_vae_twins_trace_to_the_same_flow():
    flows = trace_twins("vae", "VAE", IMAGES)
    assert set(flows) == {"torch", "tensorflow"}
    compare_flows(flows["torch"], flows["tensorflow"], check_names=True)
    steps = flows["torch"]
    assert [s.name for s in steps] == ["input", "encoder_hidden", "mean", "logvar", "latent",
                                       "decoder_input", "decoder_hidden", "output"]
    assert [s.features for s in steps] == [(784,), (128,), (100,), (100,), (100,), (100,), (128,), (784,)]
    assert all(s.shape[0] == "B" for s in steps)


def test_cvae_twins_trace_to_the_same_flow_with_the_label_appended():
    flows = trace_twins("vae", "CVAE", IMAGES, LABELS)
    compare_flows(flows["torch"], flows["tensorflow"], check_names=True)
    features = {s.name: s.features for s in flows["tensorflow"]}
    assert features["input"] == (784 + 10,)
    assert features["decoder_input"] == (100 + 10,)
    assert features["output"] == (784,)


def test_twins_built_with_other_sizes_follow_their_arguments():
    sizes = dict(input_dim=784, hidden_dim=64, latent_dim=8)
    flows = trace_twins("vae", "VAE", IMAGES, model_kwargs=sizes)
    compare_flows(flows["torch"], flows["tensorflow"])
    assert [s.features[0] for s in flows["torch"]] == [784, 64, 8, 8, 8, 8, 64, 784]


def test_small_cnn_twins_agree_channels_last():
    images = np.zeros((2, 1, 28, 28), np.float32)
    torch_steps = trace(TorchCNN(), images)  # hooks on the leaf modules; the pool is used twice
    tf_steps = trace(KerasCNN(), images.transpose(0, 2, 3, 1))  # Keras: the leaf layers' outputs
    compare_flows(torch_steps, tf_steps, check_names=True)
    assert shapes(torch_steps) == [
        ("B", 28, 28, 1), ("B", 28, 28, 16), ("B", 14, 14, 16), ("B", 14, 14, 32), ("B", 7, 7, 32),
        ("B", 1568), ("B", 128), ("B", 10),
    ]
    assert [s.name for s in tf_steps] == ["input", "conv1", "pool", "conv2", "pool", "flatten", "fc1", "fc2"]


def test_small_cnn_twins_agree_channels_first_and_differ_natively():
    images = np.zeros((2, 1, 28, 28), np.float32)
    torch_first = trace(TorchCNN(), images, layout="channels_first")
    tf_first = trace(KerasCNN(), images.transpose(0, 2, 3, 1), layout="channels_first")
    compare_flows(torch_first, tf_first)
    assert torch_first[1].shape == ("B", 16, 28, 28)
    torch_native = trace(TorchCNN(), images, layout="native")
    tf_native = trace(KerasCNN(), images.transpose(0, 2, 3, 1), layout="native")
    with pytest.raises(FlowMismatch, match="different layouts"):
        compare_flows(torch_native, tf_native)


def test_a_changed_layer_is_reported_at_its_step():
    images = np.zeros((2, 1, 28, 28), np.float32)
    torch_steps = trace(TorchCNN(), images)
    tf_steps = trace(KerasCNN(hidden_dim=64), images.transpose(0, 2, 3, 1))
    with pytest.raises(FlowMismatch, match=r"step 6 \(shape\): PyTorch fc1 \(B, 128\) vs TensorFlow fc1 \(B, 64\)"):
        compare_flows(torch_steps, tf_steps)


def test_a_missing_step_is_reported():
    flows = trace_twins("vae", "VAE", IMAGES)
    with pytest.raises(FlowMismatch, match="8 .* and 7 .* steps"):
        compare_flows(flows["torch"], flows["tensorflow"][:-1])
    with pytest.raises(FlowMismatch):
        draw_flows({"torch": flows["torch"], "tensorflow": flows["tensorflow"][1:]})


def test_plain_sequential_models_of_both_frameworks():
    torch_model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                      torch.nn.Linear(4 * 26 * 26, 5))
    keras_model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3), keras.layers.ReLU(),
                                    keras.layers.Flatten(), keras.layers.Dense(5)])
    images = np.zeros((2, 1, 28, 28), np.float32)
    compare_flows(trace(torch_model, images), trace(keras_model, images.transpose(0, 2, 3, 1)))
    assert torch_model.training  # the mode is restored after tracing


def test_untraceable_objects_are_refused():
    with pytest.raises(TypeError, match="framework"):
        trace(object(), IMAGES)
    with pytest.raises(ValueError, match="layout"):
        trace(TorchCNN(), IMAGES, layout="nchw")


def test_drawing_puts_every_name_and_shape_on_the_figure():
    flows = trace_twins("vae", "VAE", IMAGES)
    figure = draw_flows(flows, title="VAE")
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert "encoder_hidden" in texts and "128" in texts and "784" in texts
    assert "identical shapes" in figure.axes[0].get_title()
    ax = draw_flow([Step("x", ("B", 28, 28, 1)), Step("y", ("B", 10))], direction="vertical")
    assert "28 × 28 × 1" in [t.get_text() for t in ax.texts]
    matplotlib.pyplot.close("all")


def test_image_twins_trace_to_the_same_shapes():
    from torchflow.flow import compare_flows, trace_image_twins

    flows = trace_image_twins("cnn", "ConvNet", (32, 32, 3), frameworks=["torch", "tensorflow"])
    compare_flows(flows["torch"], flows["tensorflow"])
    assert [s.shape for s in flows["torch"]][:2] == [("B", 32, 32, 3), ("B", 28, 28, 6)]
    assert flows["torch"][-1].shape == ("B", 10)
    stn = trace_image_twins("stn", "STNClassifier", (28, 28, 1), frameworks=["torch", "tensorflow"])
    compare_flows(stn["torch"], stn["tensorflow"])
    assert any(step.name == "loc_fc2" and step.shape == ("B", 6) for step in stn["torch"])


def test_blocks_group_a_deep_network_and_the_twins_agree():
    from torchflow.flow import trace_blocks, trace_image_twins

    blocks = {"stem": ("conv1", "bn1", "relu"), "max-pool": "maxpool", "layer1": "layer1", "layer2": "layer2",
              "layer3": "layer3", "layer4": "layer4", "average pool": ("avgpool", "flatten"), "fc": "fc"}
    flows = trace_image_twins("resnet", "ResNet18", (28, 28, 1), frameworks=["torch", "tensorflow"],
                              model_kwargs={"num_classes": 5}, blocks=blocks)
    compare_flows(flows["torch"], flows["tensorflow"], check_names=True)
    assert [s.name for s in flows["torch"]] == ["input", *blocks]
    assert [s.shape for s in flows["tensorflow"]] == [
        ("B", 28, 28, 1), ("B", 14, 14, 64), ("B", 7, 7, 64), ("B", 7, 7, 64), ("B", 4, 4, 128),
        ("B", 2, 2, 256), ("B", 1, 1, 512), ("B", 512), ("B", 5)]
    assert all(s.kind == "block" for s in flows["torch"][1:])
    # the leaf-level trace is unchanged: many more steps, and the twins' leaves differ (Keras pads explicitly)
    leaves = trace_image_twins("resnet", "ResNet18", (28, 28, 1), frameworks=["torch", "tensorflow"])
    assert len(leaves["torch"]) > 40 and len(leaves["torch"]) != len(leaves["tensorflow"])
    # a block may be a sub-module given by its path, the same in both frameworks
    from torchflow.pt.resnet import ResNet18 as TorchResNet
    from torchflow.tf.resnet import ResNet18 as KerasResNet

    parts = {"first block": "layer1.0", "last block": "layer4.1"}
    a = trace_blocks(TorchResNet(), np.zeros((2, 1, 28, 28), np.float32), blocks=parts, layout="channels_first")
    b = trace_blocks(KerasResNet(), np.zeros((2, 28, 28, 1), np.float32), blocks=parts, layout="channels_first")
    compare_flows(a, b, check_names=True)
    assert [s.shape for s in a] == [("B", 1, 28, 28), ("B", 64, 7, 7), ("B", 512, 1, 1)]


def test_blocks_default_to_the_direct_children_and_bad_blocks_are_refused():
    from torch import nn

    from torchflow.flow import trace_blocks

    torch_net = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    steps = trace_blocks(torch_net, IMAGES)
    assert [(s.name, s.shape) for s in steps] == [("input", ("B", 784)), ("0", ("B", 32)), ("1", ("B", 32)),
                                                  ("2", ("B", 10))]
    keras_net = keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)])
    keras_net.build((None, 784))
    steps = trace_blocks(keras_net, IMAGES, blocks={"hidden": "0", "logits": "1"}, include_input=False)
    assert [(s.name, s.shape) for s in steps] == [("hidden", ("B", 32)), ("logits", ("B", 10))]
    assert [(s.name, s.shape) for s in trace_blocks(torch_net, IMAGES, blocks={"mlp": ("0", "1", "2")})] == [
        ("input", ("B", 784)), ("mlp", ("B", 10))]
    with pytest.raises(AttributeError):
        trace_blocks(torch_net, IMAGES, blocks={"nothing": "7"})
    class WithSpare(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.spare = nn.Linear(784, 10), nn.Linear(1, 1)

        def forward(self, x):
            return self.used(x)

    with pytest.raises(ValueError, match="spare never ran"):
        trace_blocks(WithSpare(), IMAGES, blocks={"used": "used", "spare": "spare"})
    before = len(trace(torch_net, IMAGES))
    assert before == 4 and not torch_net[0]._forward_hooks  # the hooks are gone, the leaf trace unchanged
