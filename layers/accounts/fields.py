"""Writable relations checked against the sender's scope: one mechanism for every foreign key a client
may send (tests/test_scoped_relations.py enumerates the serializers so that none slips past).

A relation field names the kind of row it points at (a key of layers.accounts.roles.RULES); the rows
it accepts are the ones `visible(kind, ...)` lets the sender see, in the request of the serializer's
context (no request: the anonymous scope, which sees nothing scoped). A row outside the scope is
refused exactly like a row that does not exist, so the answer says nothing about it: not that it
exists, nor where it is.
"""

from __future__ import annotations

from rest_framework import serializers

from layers.accounts.roles import ANONYMOUS, request_scope, visible


class ScopedRelation:
    """Mixin for DRF related fields: the queryset narrowed to the rows of `scope_kind` the sender sees."""

    def __init__(self, *, scope_kind: str, **kwargs):
        self.scope_kind = scope_kind
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        scope = request_scope(request) if request is not None else ANONYMOUS
        return visible(self.scope_kind, super().get_queryset(), scope)


class ScopedPrimaryKeyRelatedField(ScopedRelation, serializers.PrimaryKeyRelatedField):
    default_error_messages = {"does_not_exist": "no row with id {pk_value} among those you may use"}


class ScopedSlugRelatedField(ScopedRelation, serializers.SlugRelatedField):
    default_error_messages = {"does_not_exist": "no row with {slug_name} {value} among those you may use"}
