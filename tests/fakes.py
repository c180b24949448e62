"""Fakes of the use cases' ports: presets of a chosen cost, a storage holding what it is told,
an assistant that streams what it is told."""

from __future__ import annotations

from collections.abc import Iterator

from domain.assistant import Turn
from domain.errors import AssistantInterrupted, AssistantUnavailable
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


class ScriptedAssistant:
    """An ``Assistant`` streaming ``deltas``: cut off after ``interrupt_after`` of them
    (``AssistantInterrupted`` with the text so far), or unavailable from the start."""

    def __init__(
        self,
        *deltas: str,
        interrupt_after: int | None = None,
        unavailable: bool = False,
        model: str = "scripted",
    ) -> None:
        self.model = model
        self._deltas = deltas or ("Hello", ", ", "world.")
        self._interrupt_after = interrupt_after
        self._unavailable = unavailable
        self.calls: list[tuple[list[Turn], str | None, int | None]] = []

    def stream_reply(
        self, messages: list[Turn], *, model: str | None = None, max_tokens: int | None = None
    ) -> Iterator[str]:
        self.calls.append((list(messages), model, max_tokens))
        if self._unavailable:
            raise AssistantUnavailable("the scripted assistant is down", reason="unreachable")
        for sent, delta in enumerate(self._deltas):
            if sent == self._interrupt_after:
                text = "".join(self._deltas[:sent])
                raise AssistantInterrupted("the scripted reply broke off", text=text)
            yield delta
