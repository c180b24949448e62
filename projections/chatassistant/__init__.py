"""The assistant in chat rooms: the reactor that answers, and its partial replies' channel."""
