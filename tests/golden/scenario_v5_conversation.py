"""The scenario that wrote events_v5_conversation.json: every ``Conversation`` event.

It was run once, on the working tree of issue 17's assistant context, with ``PYTHONPATH=<checkout>
python scenario_v5_conversation.py <source> events_v5_conversation.json`` on the library's
in-memory store. Never run it again over the fixture: later code must load it as it is.
"""

import sys
from uuid import UUID

from domain.conversation import Conversation
from tests.golden.fixture import write

USER = UUID("00000000-0000-4000-8000-000000000005")
ROOM = UUID("00000000-0000-4000-8000-0000000000e1")
METADATA = {"actor": "golden", "correlation_id": "corr-5", "causation_id": "cause-5"}


def scenario() -> list:
    conversation = Conversation.start(USER, ROOM)
    conversation.change_settings("ko", "friendly", "small-model")
    first = conversation.ask("여행 계획을 도와줄래?")
    conversation.reply(first, "물론이죠! 어디로 가시나요?", complete=True)
    second = conversation.ask("제주도, 3일.")
    conversation.reply(second, "첫째 날은", complete=False)
    conversation.summarise("사용자는 제주도 3일 여행을 계획한다.", second)
    return [conversation]


def main(source: str, path: str) -> None:
    write(scenario, METADATA, source, path)


if __name__ == "__main__":
    main(*sys.argv[1:])
