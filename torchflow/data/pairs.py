"""The dataset type of text pairs: French->English sentences, or a dialogue's query->reply turns."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from torchflow.data.store import DatasetInfo


@dataclass(frozen=True)
class Pairs:
    """``pairs[i] = (source_text, target_text)``: French->English, or query->reply."""

    pairs: list[tuple[str, str]]
    info: DatasetInfo

    def __len__(self) -> int:
        return len(self.pairs)

    def describe(self) -> str:
        return self.info.describe()

    def sample(self, count: int | None, seed: int = 0) -> Pairs:
        """``count`` pairs drawn without replacement (seeded), in their original order."""
        if count is None or count >= len(self.pairs):
            return self
        keep = np.sort(np.random.default_rng(seed).choice(len(self.pairs), size=count, replace=False))
        info = dataclasses.replace(self.info, count=count,
                                   note=f"{self.info.note} A seeded sample of {len(self.pairs):,}.".strip())
        return Pairs([self.pairs[i] for i in keep], info)
