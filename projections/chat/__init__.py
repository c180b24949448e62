"""Chat rooms' read model: ``chat_rooms``, ``chat_members`` and ``chat_messages``, and their
queries (a room, its members, its messages by keyset pages)."""
