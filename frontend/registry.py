"""What each screen app adds to the shared base, registered by the app itself in its AppConfig.ready()
(as admin.site.register works), so that the base never lists the screens:

    from frontend import registry
    registry.register("field-home", gettext_lazy("My tasks"), roles={"officer"}, order=10)
    registry.register_catalogue("field")     # its djangojs strings go into /jsi18n/

An entry shows to a signed-in user who holds one of its roles (an empty set: to everyone, signed in or
not). Its URL is reversed from the URL name at render time; a name that does not resolve is skipped, so
a screen app not installed in a deployment leaves no dead link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from layers.accounts.roles import ADMIN, Scope


@dataclass(frozen=True)
class Entry:
    url_name: str
    label: str
    roles: frozenset[str]
    order: int


_ENTRIES: dict[str, Entry] = {}


def register(url_name: str, label, *, roles: set[str] | frozenset[str] = frozenset(), order: int = 100) -> None:
    """Adds (or replaces) the entry for `url_name`; `label` is a lazy translation."""
    _ENTRIES[url_name] = Entry(url_name, label, frozenset(roles), order)


_CATALOGUES: list[str] = ["frontend"]


def register_catalogue(app_name: str) -> None:
    """Puts the djangojs translations of installed app `app_name` into the screens' /jsi18n/ catalogue
    (only the screens' own: the admin's would triple the catalogue every phone downloads)."""
    if app_name not in _CATALOGUES:
        _CATALOGUES.append(app_name)


def catalogue_packages() -> list[str]:
    return list(_CATALOGUES)


def entries_for(scope: Scope, current_path: str = "") -> list[dict]:
    """The entries `scope` may use, in order, each with its URL and whether it is the current page."""
    shown = []
    for entry in sorted(_ENTRIES.values(), key=lambda e: (e.order, e.url_name)):
        if entry.roles and not (scope.roles & (entry.roles | {ADMIN})):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        current = current_path == url or (url != "/" and current_path.startswith(url))
        shown.append({"url": url, "label": str(entry.label), "current": current})
    return shown
