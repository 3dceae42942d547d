"""No family module imports another family: each twin imports its framework and its ``layers``.

The twin modules are read as source (``ast``), not imported, so this needs neither framework.
Every ``import``/``from ... import`` anywhere in a module of ``torchflow/pt`` or ``torchflow/tf``
(function bodies included) is checked:

* from the package, only its own framework's ``layers`` (``torchflow.pt.layers`` for a PyTorch
  twin), plus the framework-free modules listed in :data:`FRAMEWORK_FREE` (none today: a family
  module should not need the package's plumbing; weights move by :mod:`torchflow.convert`,
  outside the twins);
* ``layers`` itself imports nothing from the package;
* no PyTorch twin imports TensorFlow or Keras, no TensorFlow twin imports PyTorch.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"pt": "torchflow.pt", "tf": "torchflow.tf"}
FRAMEWORK_FREE: tuple[str, ...] = ()  # framework-free torchflow modules a twin may import (listed on purpose)
FORBIDDEN = {"pt": ("tensorflow", "keras", "tf_keras"), "tf": ("torch", "torchvision")}
SOURCES = sorted(path for side in PACKAGES for path in (ROOT / "torchflow" / side).glob("*.py"))


def imported_modules(path: Path, package: str) -> list[str]:
    """Every module that ``path`` imports, as an absolute dotted name (relative imports resolved)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x / from .layers import y
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module in ("torchflow", *PACKAGES.values()):  # from torchflow.pt import layers: the names are modules
                found += [f"{module}.{alias.name}" for alias in node.names]
            else:
                found.append(module)
    return found


def _is_within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def problems(path: Path) -> list[str]:
    side = path.parent.name
    own_layers = f"{PACKAGES[side]}.layers"
    found = []
    for module in imported_modules(path, PACKAGES[side]):
        if any(_is_within(module, name) for name in FORBIDDEN[side]):
            found.append(f"imports {module}, the other framework")
        elif _is_within(module, "torchflow"):
            allowed = () if path.stem == "layers" else (own_layers, *FRAMEWORK_FREE)
            if module not in allowed:
                found.append(f"imports {module}")
    return found


def test_the_twin_modules_are_found():
    names = {f"{p.parent.name}/{p.stem}" for p in SOURCES}
    assert {"pt/layers", "tf/layers", "pt/vae", "tf/vae", "pt/gan", "tf/dcgan"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_twin_imports_only_its_framework_and_its_layers(path):
    assert problems(path) == []


def test_the_check_sees_what_it_forbids(tmp_path):
    """The parser catches each kind of import the rule forbids (and lets the allowed ones through)."""
    twin = tmp_path / "pt" / "family.py"
    twin.parent.mkdir()
    twin.write_text(
        "import torch\nfrom torchflow.pt.layers import glorot\nfrom torchflow.pt import layers\n"
        "from .layers import BatchNorm\n"
        "from torchflow.pt.word_embeddings import embedding\nfrom . import cnn\nimport torchflow.initialisation\n"
        "def f():\n    import tensorflow as tf\n    from torchflow.tf.layers import GLOROT\n", encoding="utf-8")
    assert problems(twin) == [
        "imports torchflow.pt.word_embeddings", "imports torchflow.pt.cnn", "imports torchflow.initialisation",
        "imports tensorflow, the other framework", "imports torchflow.tf.layers"]
