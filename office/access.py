"""Which office screen each role may open, in one table; the views, the navigation and /office/ read it.

A screen the reader's roles do not allow answers 403 (signed out: the sign-in page first); a case or
area outside the reader's scope answers 404 on the page as in the API (layers.accounts.roles).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from layers.accounts.roles import ADMIN, DISPATCHER, HANDLER, LEADER, PLANNER, SUPERVISOR, request_scope


@dataclass(frozen=True)
class Screen:
    url_name: str
    label: object
    roles: frozenset[str]


# In the order of the navigation; /office/ opens the first one a reader's roles allow.
SCREENS = {
    # Supervisors watch the command centre but do not command it (监管分离): no dispatch console.
    "dispatch": Screen("office-dispatch", _("Dispatch"), frozenset({DISPATCHER})),
    "inbox": Screen("office-inbox", _("Department inbox"), frozenset({HANDLER})),
    "dashboard": Screen("office-dashboard", _("Area dashboard"), frozenset({LEADER, SUPERVISOR})),
    "wall": Screen("office-wall", _("Wall display"), frozenset({LEADER, SUPERVISOR, DISPATCHER})),
    "audits": Screen("office-audits", _("Audits"), frozenset({SUPERVISOR})),
    "assessment": Screen("office-assessment", _("Assessment"), frozenset({SUPERVISOR})),
    "planning": Screen("office-planning", _("Planning"), frozenset({PLANNER})),
}


def allows(scope, screen: str) -> bool:
    return scope.has(*SCREENS[screen].roles, ADMIN)


def screens_for(scope) -> list[str]:
    """The screens `scope` may open, in navigation order."""
    return [name for name in SCREENS if allows(scope, name)]


def screen(name: str):
    """View decorator: sign-in first, then 403 unless the reader's roles allow screen `name`."""

    def decorate(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            scope = request_scope(request)
            if scope.is_anonymous:
                return redirect_to_login(request.get_full_path())
            if not allows(scope, name):
                return forbidden(request)
            return view(request, *args, **kwargs)

        return guarded

    return decorate


def forbidden(request):
    """403 for a screen the reader's roles do not allow: says so, and lists the screens they have."""
    allowed = [SCREENS[name] for name in screens_for(request_scope(request))]
    return render(request, "office/forbidden.html", {"allowed": allowed}, status=403)
