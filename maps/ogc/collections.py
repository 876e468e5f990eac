"""The feature collections served as OGC API - Features: those the layers registered
(common.publishing). The map layer names no layer; each one publishes its own models."""

from common.publishing import Collection, collections, get

__all__ = ["Collection", "available", "get"]


def available() -> list[Collection]:
    """The published collections, in the order the layers registered them."""
    return collections()
