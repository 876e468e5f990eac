"""The URL conf as a list, for the tests that enumerate a class of endpoint (every write, every list,
every password check) so that an endpoint added later cannot slip past them."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import get_resolver


@dataclass(frozen=True)
class Route:
    """One URL pattern: its path with every id as 1 (a router's regex anchors dropped), its view
    function, the DRF view class (None for plain Django views) and a ViewSet route's method map."""

    path: str
    pattern: str
    callback: object
    cls: type | None
    actions: dict

    @property
    def has_parameters(self) -> bool:
        return any(mark in self.pattern for mark in ("<", "(", "\\"))


def _raw(pattern) -> str:
    return str(pattern.pattern).removeprefix("^").removesuffix("$")


def _text(pattern) -> str:
    return _raw(pattern).replace("(?P<pk>[^/.]+)", "1").replace("<int:pk>", "1")


def routes() -> list[Route]:
    found = []

    def walk(patterns, prefix="", raw=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, prefix + _text(pattern), raw + _raw(pattern))
            else:
                callback = pattern.callback
                found.append(
                    Route(
                        "/" + prefix + _text(pattern),
                        raw + _raw(pattern),
                        callback,
                        getattr(callback, "cls", None),
                        getattr(callback, "actions", None) or {},
                    )
                )

    walk(get_resolver().url_patterns)
    return found
