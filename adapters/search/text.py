"""Text rules of the search adapters: normalising, splitting into terms, and character grams.

Text is NFKC-normalised (full-width letters, compatibility jamo and decomposed Hangul become
the ordinary forms) and case-folded; a term is a run of letters and digits (``\\w``), so
punctuation separates terms on both sides. A word's grams are its characters and its
overlapping character pairs: a term of two or more characters matches inside a word only if
all its pairs are among the word's, which lets a GIN index find 여행 inside 해외여행 (most
Korean words are two syllables, too short for trigrams to narrow anything).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_TERMS = 8
_TERM = re.compile(r"\w+")


def normalise(text: str) -> str:
    """NFKC, case-folded, then NFKC again (case folding can leave unnormalised text)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def terms(text: str) -> list[str]:
    """The normalised terms of ``text`` in order, repeats kept."""
    return _TERM.findall(normalise(text))


def query_terms(q: str) -> list[str]:
    """The distinct terms of a query, in order, at most ``MAX_TERMS`` (the rest are ignored)."""
    return list(dict.fromkeys(terms(q)))[:MAX_TERMS]


def body(*texts: str) -> str:
    """The searchable text: every term of ``texts``, separated by single spaces."""
    return " ".join(term for text in texts for term in terms(text))


def word_grams(word: str) -> set[str]:
    """The characters and the overlapping character pairs of one term."""
    return set(word) | {word[i : i + 2] for i in range(len(word) - 1)}


def grams(words: Iterable[str]) -> list[str]:
    """The sorted grams of every word (what a document is indexed under)."""
    found: set[str] = set()
    for word in words:
        found |= word_grams(word)
    return sorted(found)


def term_keys(term: str) -> list[str]:
    """The grams a document must have for ``term`` to occur in it: its pairs, or the character."""
    if len(term) == 1:
        return [term]
    return sorted({term[i : i + 2] for i in range(len(term) - 1)})


def tag_key(tag: str) -> str:
    """A tag as filters compare it: normalised, case-folded, spaces collapsed."""
    return " ".join(normalise(tag).split())
