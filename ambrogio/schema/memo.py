"""What is computed once per parsed document, kept by the document's identity.

graphql-core's nodes are frozen dataclasses: hashing a document walks its whole tree, which for
a small query costs more than reading what ``functools.lru_cache`` keeps for it. Documents come
from the parse cache (``ambrogio.schema.limits``: one object per text), so identity is the key
that holds; each entry keeps its document alive, so that an id is never reused while cached.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import update_wrapper
from typing import Generic, NamedTuple, TypeVar

R = TypeVar("R")


class CacheInfo(NamedTuple):
    hits: int
    misses: int


class PerDocument(Generic[R]):
    """An LRU cache of ``function(document, *args)``: the document by identity, the other
    arguments (positional only, hashable) by value."""

    def __init__(self, function: Callable[..., R], maxsize: int) -> None:
        self.function, self.maxsize = function, maxsize
        self.entries: OrderedDict[tuple[Hashable, ...], tuple[object, R]] = OrderedDict()
        self.hits = self.misses = 0
        update_wrapper(self, function)

    def __call__(self, document: object, *args: Hashable) -> R:
        key = (id(document), *args)
        entry = self.entries.get(key)
        if entry is not None and entry[0] is document:
            self.hits += 1
            self.entries.move_to_end(key)
            return entry[1]
        self.misses += 1
        value = self.function(document, *args)
        self.entries[key] = (document, value)
        if len(self.entries) > self.maxsize:
            self.entries.popitem(last=False)
        return value

    def cache_info(self) -> CacheInfo:
        return CacheInfo(self.hits, self.misses)


def per_document(maxsize: int) -> Callable[[Callable[..., R]], PerDocument[R]]:
    def decorate(function: Callable[..., R]) -> PerDocument[R]:
        return PerDocument(function, maxsize)

    return decorate
