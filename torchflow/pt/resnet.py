"""ResNet-18 (He et al., 2016) for small grey images -- the PyTorch twin.

The block structure of ``torchvision.models.resnet18`` unchanged: a 7x7 stride-2
stem and a 3x3 stride-2 max-pool, then four stages of two basic blocks (64, 128,
256 and 512 channels; stages 2-4 halve the resolution), global average pooling
and one dense layer ``fc``. Only ``in_channels`` (1 for grey images) and
``num_classes`` differ from ImageNet's, and parameter names match torchvision's,
so its ``state_dict`` loads into this model and back. A basic block computes

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

    image (B, 1, 28, 28) -> stem conv 7x7/2 (B, 64, 14, 14) -> max-pool 3x3/2 (B, 64, 7, 7)
      -> layer1 (B, 64, 7, 7) -> layer2 (B, 128, 4, 4) -> layer3 (B, 256, 2, 2) -> layer4 (B, 512, 1, 1)
      -> average pool (B, 512) -> fc (B, num_classes)
"""

from __future__ import annotations

import torch
from torch import nn

from torchflow.pt.layers import BatchNorm


def _conv(in_channels: int, channels: int, kernel_size: int, stride: int = 1, padding: int = 0) -> nn.Conv2d:
    """A bias-free convolution, He normal over the fan-out (torchvision's)."""
    conv = nn.Conv2d(in_channels, channels, kernel_size, stride=stride, padding=padding, bias=False)
    nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
    return conv


def _batch_norm(channels: int) -> nn.BatchNorm2d:
    norm = BatchNorm(channels)  # momentum 0.1 (Keras' 0.9), eps 1e-5
    nn.init.ones_(norm.weight)
    nn.init.zeros_(norm.bias)
    return norm


def _dense(in_features: int, out_features: int) -> nn.Linear:
    """U(-a, a) weights and biases, a = 1 / sqrt(in_features) (torchvision's fc)."""
    bound = in_features**-0.5
    dense = nn.Linear(in_features, out_features)
    nn.init.uniform_(dense.weight, -bound, bound)
    nn.init.uniform_(dense.bias, -bound, bound)
    return dense


class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv(in_channels, channels, kernel_size=3, stride=stride, padding=1)
        self.bn1 = _batch_norm(channels)
        self.conv2 = _conv(channels, channels, kernel_size=3, stride=1, padding=1)
        self.bn2 = _batch_norm(channels)
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                _conv(in_channels, channels, kernel_size=1, stride=stride),
                _batch_norm(channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + shortcut)


class ResNet18(nn.Module):
    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 widths: tuple[int, int, int, int] = (64, 128, 256, 512)) -> None:
        super().__init__()
        self.backbone_frozen = False
        self.conv1 = _conv(in_channels, widths[0], kernel_size=7, stride=2, padding=3)
        self.bn1 = _batch_norm(widths[0])
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        stages, previous = [], widths[0]
        for index, width in enumerate(widths):
            stride = 1 if index == 0 else 2
            stages.append(nn.Sequential(BasicBlock(previous, width, stride), BasicBlock(width, width)))
            previous = width
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = _dense(widths[-1], num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The (B, 512) representation that ``fc`` reads."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(images))))  # (B, 64, 7, 7)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (B, 512, 1, 1)
        return self.flatten(self.avgpool(x))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(images))

    def freeze_backbone(self) -> None:
        """Train only ``fc``: no gradients for the rest, whose batch norms keep their running statistics."""
        self.backbone_frozen = True
        for name, parameter in self.named_parameters():
            parameter.requires_grad = name.startswith("fc.")
        self.train(self.training)

    def train(self, mode: bool = True) -> ResNet18:
        super().train(mode)
        if self.backbone_frozen:
            for module in self.children():
                if module is not self.fc:
                    module.eval()
        return self
