"""The library's JSON transcoder against an orjson one, on every golden event and snapshot.

Run from the repository root: ``.venv/bin/python -m bench.bench_transcoder``. It prints whether
the orjson transcoder writes the same bytes and reads the same values as the library's, then
each one's time per event to encode and to decode, and the ratio. The orjson transcoder is a
candidate measured here, not the application's: orjson writes a UUID as plain text and has no
object hook, so keeping the stored bytes (``{"_type_": "uuid_hex", ...}``) takes a Python walk
over every value each way, which is where most of the library's time goes too.
"""

from __future__ import annotations

import argparse
import json
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

from eventstore.application import Chronicle

GOLDEN = Path(__file__).parents[1] / "tests" / "golden"
PLAIN = (str, int, float, bool, type(None))


class OrjsonTranscoder(JSONTranscoder):
    """The JSON transcoder's bytes, written and read by orjson around a walk of the values."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(self._wrapped(obj))

    def decode(self, data: bytes) -> Any:
        return self._unwrapped(orjson.loads(data))

    def _wrapped(self, value: Any) -> Any:
        kind = type(value)
        if kind in PLAIN:
            return value
        if kind is dict:
            return {k: self._wrapped(v) for k, v in value.items()}
        if kind is list or kind is tuple:
            return [self._wrapped(v) for v in value]
        wrapper = self._encode_obj(value)
        return {"_type_": wrapper["_type_"], "_data_": self._wrapped(wrapper["_data_"])}

    def _unwrapped(self, value: Any) -> Any:
        if type(value) is dict:
            return self._decode_obj({k: self._unwrapped(v) for k, v in value.items()})
        if type(value) is list:
            return [self._unwrapped(v) for v in value]
        return value


def golden_states() -> list[bytes]:
    """The state of every stored event and snapshot in the golden fixtures."""
    states = []
    for fixture in sorted(GOLDEN.glob("events_v*.json")):
        rows = json.loads(fixture.read_text(encoding="utf-8"))
        states += [row["state"].encode() for row in rows["events"] + rows.get("snapshots", [])]
    return states


def per_event(function: Callable[[Any], Any], values: list[Any], rounds: int) -> float:
    """The best of five runs' time per value, in microseconds."""

    def run() -> None:
        for value in values:
            function(value)

    return min(timeit.repeat(run, number=rounds, repeat=5)) / rounds / len(values) * 1e6


def main() -> None:
    """Check the bytes, then time both transcoders each way."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_transcoder", description=__doc__)
    parser.add_argument("--rounds", type=int, default=200, help="passes over the states per run")
    args = parser.parse_args()
    library = Chronicle(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper.transcoder
    assert isinstance(library, JSONTranscoder)
    candidate = OrjsonTranscoder()
    for transcoding in library.types.values():
        candidate.register(transcoding)
    states = golden_states()
    values = [library.decode(state) for state in states]
    same_bytes = sum(candidate.encode(v) == s for v, s in zip(values, states, strict=True))
    same_values = sum(candidate.decode(s) == v for v, s in zip(values, states, strict=True))
    print(
        f"{len(states)} golden states, {sum(map(len, states)) / len(states):.0f} bytes on average"
    )
    print(f"orjson writes the same bytes for {same_bytes}, reads the same values for {same_values}")
    for way, library_way, candidate_way, inputs in (
        ("encode", library.encode, candidate.encode, values),
        ("decode", library.decode, candidate.decode, states),
    ):
        before = per_event(library_way, inputs, args.rounds)
        after = per_event(candidate_way, inputs, args.rounds)
        ratio = after / before
        print(f"{way}: json {before:6.2f} µs/event  orjson {after:6.2f} µs/event  {ratio:.2f}×")


if __name__ == "__main__":
    main()
