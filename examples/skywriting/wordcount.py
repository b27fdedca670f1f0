"""The steps of examples/skywriting/wordcount.sw, for Skywriting's `python` executor (this
module ships to the nodes like any program code)."""

import re
import zlib

# The input: the first stanzas of Blake's "The Tyger" (1794), one chunk each.
CHUNKS = [
    "Tyger Tyger, burning bright, In the forests of the night; What immortal hand or eye, "
    "Could frame thy fearful symmetry?",
    "In what distant deeps or skies. Burnt the fire of thine eyes? On what wings dare he "
    "aspire? What the hand, dare seize the fire?",
    "And what shoulder, & what art, Could twist the sinews of thy heart? And when thy heart "
    "began to beat, What dread hand? & what dread feet?",
    "What the hammer? what the chain, In what furnace was thy brain? What the anvil? what "
    "dread grasp, Dare its deadly terrors clasp!",
]


def chunk(index: int) -> str:
    return CHUNKS[index]


def count(text: str, buckets: int) -> list:
    """The mapper's work: word counts of one chunk, split into `buckets` dicts by a stable
    hash of the word (the same word lands in the same bucket from every chunk)."""
    out = [{} for _ in range(buckets)]
    for word in re.findall(r"[a-z]+", text.lower()):
        bucket = out[zlib.crc32(word.encode()) % buckets]
        bucket[word] = bucket.get(word, 0) + 1
    return out


def merge(*counts) -> dict:
    """The reducer's work: one bucket's counts from every chunk, added up."""
    total: dict = {}
    for c in counts:
        for word, n in c.items():
            total[word] = total.get(word, 0) + n
    return total


def top(k: int, *counts) -> list:
    """The k most frequent words over all buckets: [[word, count], ...], ties by word."""
    total = merge(*counts)
    return [[w, n] for w, n in sorted(total.items(), key=lambda wn: (-wn[1], wn[0]))[:k]]
