"""Ids the node's logic derives (pure functions)."""

from __future__ import annotations

import hashlib


def submit_id(program: str) -> str:
    """The id of the "hop" a client's submission is: the program's first segment (the ids it
    makes derive from this, so a segment run again after a crash makes the same ones)."""
    return hashlib.blake2b(f"{program}/submit".encode(), digest_size=10).hexdigest()


def derived_id(origin: str, n: int | str) -> str:
    """The n-th id made by a program segment that resumed from hop (or program) `origin`:
    run again from the same hop after a crash, a segment makes the same ids, so what it
    sends again is taken once."""
    return hashlib.blake2b(f"{origin}/{n}".encode(), digest_size=10).hexdigest()


def source_hash(source: str) -> str:
    """A module's source hash (as swarm.compiler.registry.source_hash)."""
    return hashlib.sha256(source.encode()).hexdigest()


#: the name of a sources entry that holds a large value of a program (VALUE, "", its pickle)
#: rather than a module's code: hops name it by hash (program.ship, docs/nodes.md)
VALUE = "<value>"


def value_hash(blob: bytes) -> str:
    """A large value's content hash, hex (as swarm.continuation.contentaddr.digest)."""
    return hashlib.blake2b(blob, digest_size=16).hexdigest()


def entry_hash(entry) -> str:
    """The hash a sources entry is kept under: a value's, or a module source's."""
    return value_hash(entry[2]) if entry[0] == VALUE else source_hash(entry[2])
