"""Takes per test and MBTI type: the ``test_stats`` read model, its projection and query."""
