"""The screen base's own page: the signed-in user's notifications (the inbox every screen's header counts)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from common import notifications


@login_required
@require_http_methods(["GET", "POST"])
def notifications_page(request):
    """GET: the latest notifications, unread ones marked; POST: mark them all read (a plain form, so it
    works without JavaScript), then back to the list."""
    if request.method == "POST":
        notifications.mark_all_read(user=request.user)
        return redirect("notifications-page")
    return render(request, "frontend/notifications.html", {"entries": notifications.inbox(request.user)})
