"""Fakes of the use cases' ports: presets of a chosen cost, a storage holding what it is told."""

from __future__ import annotations

from domain.presets import Preset, Presets


def presets(cost: int = 5) -> Presets:
    """Two presets of ``cost`` credits per item, up to 100 items."""
    return Presets([Preset(name, name, cost, 100, "image/png") for name in ("upscale", "denoise")])


class Stored:
    """A storage that holds every object asked about (or none of ``missing``)."""

    def __init__(self, *missing: str) -> None:
        self._missing = set(missing)

    def missing(self, keys: list[str]) -> list[str]:
        return [key for key in keys if key in self._missing]


SHIPPED = Presets.load()  # the presets the service ships with
STORED = Stored()  # every upload is there
