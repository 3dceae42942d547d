"""The book's model families, each declared once.

A *family* is one pair of twin modules, ``torchflow.pt.<module>`` and
``torchflow.tf.<module>``, with the same class names, arguments and defaults.
Everything that needs to know the families reads them from :data:`FAMILIES`:
the dimension-flow tracer (:mod:`torchflow.flow`), the comparison page
(``docs/_ext/comparison.py``), the parity tests and the studies. Nothing else
imports a twin by a string or infers a family from source text.

Adding a family is one entry here (see ``CONTRIBUTING.md``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

PACKAGES = {"torch": "torchflow.pt", "tensorflow": "torchflow.tf"}


@dataclass(frozen=True)
class Family:
    """One model family: its twins, how weights move between them, its tests and pages.

    ``weights`` names how :func:`torchflow.convert.copy_weights` copies the PyTorch
    twin's weights into the TensorFlow twin: ``"explicit"`` for models with
    hand-declared weights (``get_weights``/``set_weights`` dictionaries), ``"layers"`` for
    layers-API models (``state_dict`` into Keras layers of the same names). A dense
    layer that follows a flatten of (C, H, W) maps needs its inputs reordered:
    ``flatten_from(torch_model)`` gives ``{layer: (C, H, W)}`` for those.
    """

    name: str
    chapter: str
    title: str
    classes: tuple[str, ...]
    weights: str
    pages: tuple[str, ...] = ()  # examples/<chapter>/<page>.py that train this family
    module: str = ""  # defaults to ``name``
    flatten_from: Callable[[Any], dict[str, tuple[int, int, int]]] | None = field(default=None, repr=False)

    @property
    def module_name(self) -> str:
        return self.module or self.name

    @property
    def parity_test(self) -> str:
        """The family's parity (and trajectory-parity) tests, relative to the repository root."""
        return f"tests/test_parity_{self.name}.py"

    @property
    def sources(self) -> dict[str, str]:
        """The twin modules' source files, relative to the repository root."""
        return {fw: f"{pkg.replace('.', '/')}/{self.module_name}.py" for fw, pkg in PACKAGES.items()}

    def twin_module(self, framework: str) -> ModuleType:
        """``torchflow.pt.<module>`` or ``torchflow.tf.<module>`` (imports that framework)."""
        if framework not in PACKAGES:
            raise ValueError(f"unknown framework {framework!r}; use one of {', '.join(PACKAGES)}")
        return importlib.import_module(f"{PACKAGES[framework]}.{self.module_name}")

    def twin(self, framework: str, class_name: str | None = None) -> type:
        """The twin class of ``framework`` (the family's first class by default)."""
        class_name = class_name or self.classes[0]
        if class_name not in self.classes:
            raise ValueError(f"{class_name!r} is not a class of the {self.name!r} family: {', '.join(self.classes)}")
        return getattr(self.twin_module(framework), class_name)

    def build(self, framework: str, class_name: str | None = None, **kwargs: Any) -> Any:
        """An instance of the twin of ``framework``."""
        return self.twin(framework, class_name)(**kwargs)


def _flatten_before_fc1(model: Any) -> dict[str, tuple[int, int, int]]:
    channels = model.conv2.out_channels
    side = round((model.fc1.in_features // channels) ** 0.5)
    return {"fc1": (channels, side, side)}


def _stn_flatten(model: Any) -> dict[str, tuple[int, int, int]]:
    found = {}
    for layer, conv in (("loc_fc1", "loc_conv2"), ("fc1", "conv2")):
        if hasattr(model, layer):
            channels = getattr(model, conv).out_channels
            side = round((getattr(model, layer).in_features // channels) ** 0.5)
            found[layer] = (channels, side, side)
    return found


FAMILIES: Mapping[str, Family] = {
    family.name: family
    for family in (
        Family("cnn", "cnn", "Convolutional classifier", ("ConvNet",), "layers",
               pages=("plot_1_classifier",), flatten_from=_flatten_before_fc1),
        Family("stn", "cnn", "Spatial transformer network", ("STNClassifier",), "layers",
               pages=("plot_2_spatial_transformer",), flatten_from=_stn_flatten),
        Family("resnet", "cnn", "ResNet-18", ("ResNet18",), "layers", pages=("plot_3_transfer_learning",)),
        Family("vae", "vae", "Variational autoencoders (explicit weights)", ("VAE", "CVAE"), "explicit",
               pages=("plot_1_vae", "plot_2_cvae")),
        Family("judge", "vae", "The judge: a small CNN that scores generated images", ("JudgeNet",), "layers",
               pages=("plot_2_cvae",), flatten_from=_flatten_before_fc1),
        Family("gan", "gan", "GANs with explicit weights: GAN, conditional GAN, InfoGAN", ("GAN", "CGAN", "InfoGAN"),
               "explicit", pages=("plot_1_gan", "plot_2_cgan", "plot_3_infogan")),
        Family("dcgan", "gan", "DCGAN (layers API)", ("Generator", "Discriminator"), "layers",
               pages=("plot_4_dcgan",)),
        Family("began", "gan", "BEGAN (layers API)", ("Generator", "Discriminator", "Encoder", "Decoder"), "layers",
               pages=("plot_5_began",)),
        Family("cyclegan", "gan", "CycleGAN (layers API)", ("Generator", "Discriminator", "ResidualBlock"), "layers",
               pages=("plot_6_cyclegan",)),
        Family("rnn", "rnn", "Recurrent networks (RNN, GRU, LSTM)",
               ("SurnameClassifier", "SurnameGenerator", "RowLSTM", "CharRNN"), "layers",
               pages=("plot_1_classify_surnames", "plot_2_generate_surnames", "plot_3_row_lstm",
                      "plot_4_char_rnn")),
        Family("word_embeddings", "embeddings", "Word embeddings: N-gram language model, CBOW, skip-gram",
               ("NGramLM", "CBOW", "SkipGram"), "layers", pages=("plot_1_ngram_cbow_skipgram",)),
        Family("nce", "embeddings", "Skip-gram with a sampled loss (NCE)", ("SkipGramNCE",), "layers",
               pages=("plot_2_negative_sampling",)),
        Family("tagger", "embeddings", "LSTM part-of-speech taggers", ("LSTMTagger", "CharLSTMTagger"), "layers",
               pages=("plot_3_pos_tagger",)),
        Family("seq2seq", "seq2seq", "Encoder-decoder GRUs with attention",
               ("EncoderRNN", "DecoderRNN", "AttnDecoderRNN", "BahdanauAttnDecoderRNN", "LuongAttnDecoderRNN"),
               "layers",
               pages=("plot_1_translation", "plot_2_chatbot")),
        # what the families share (no page of its own: every family module imports it, and no other family)
        Family("layers", "layers", "Shared layers: initialisation, batch norm, explicit weights, checks",
               ("BatchNorm", "ExplicitWeights", "embedding", "normal_weights", "check_positive"), "layers"),
    )
}


def family(name: str) -> Family:
    """The family called ``name``; an unknown name is an error that lists the known ones."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown model family {name!r}; declared in torchflow/families.py: "
                       f"{', '.join(FAMILIES)}") from None


def families_of_page(page: str) -> list[Family]:
    """The families an example (``plot_1_vae``) trains."""
    return [f for f in FAMILIES.values() if page in f.pages]
