from django.apps import AppConfig

from layers.incidents.case_fields import COUNTS_AND_TIMES


class IncidentsConfig(AppConfig):
    name = "layers.incidents"
    label = "incidents"

    def ready(self):
        from common import workcalendar
        from common.overlays import register_nearby
        from common.publishing import Collection, register_collection
        from common.scopes import DISPATCHER, PLANNER, SEES_EVERYTHING, Rule, register_rule
        from layers.incidents.models import OPEN_STATUSES
        from layers.incidents.selectors import open_cases_in_reach

        register_rule(
            "case",
            Rule(
                SEES_EVERYTHING | {DISPATCHER},
                grid_code="grid__code",
                department="department_id",
                reporter="reporter_id",
            ),
        )
        # The open cases near a renovation footprint, in the planners' overlay (status, category, address:
        # no personal data): planners see them there although they read no case lists.
        register_rule(
            "overlay_case",
            Rule(
                SEES_EVERYTHING | {DISPATCHER, PLANNER},
                grid_code="grid__code",
                department="department_id",
                reporter="reporter_id",
            ),
        )
        register_nearby("cases", open_cases_in_reach)
        # A calendar change applied by an administrator recomputes the open cases' deadlines.
        workcalendar.calendar_changed.connect(_apply_calendar_to_open_cases, dispatch_uid="incidents-calendar")
        published = {
            "cases": ("Cases 事件", "Reported problems and where they are in the case loop.", lambda qs: qs),
            "open-cases": (
                "Open cases 未结事件",
                "Cases not yet closed, rejected or merged as duplicates; due_at is the current stage's deadline.",
                lambda qs: qs.filter(status__in=OPEN_STATUSES),
            ),
            "dead-corner-cases": (
                "Dead-corner cases 死角事件",
                "Cases that no grid covers.",
                lambda qs: qs.filter(dead_corner=True),
            ),
        }
        for collection_id, (title, description, rows) in published.items():
            register_collection(
                Collection(
                    id=collection_id,
                    title=title,
                    description=description,
                    model="incidents.Case",
                    geometry="location",
                    properties=CASE_PROPERTIES,
                    rows=rows,
                    kind="case",
                )
            )


# What a case publishes: where it stands and who holds it, never the reporter's contact details.
CASE_PROPERTIES = (
    "status",
    "category=category__code",
    "category_name=category__name_zh",
    "description",
    "address",
    "source",
    "district_code",
    "grid=grid__code",
    "department=department__name",
    "officer=officer_id",
    "dead_corner",
    "near_edge",
    *COUNTS_AND_TIMES,
)


def _apply_calendar_to_open_cases(sender, user=None, **kwargs) -> int:
    from layers.incidents.services import apply_stage_limits

    return apply_stage_limits(user=user, note="calendar changed: deadlines recomputed")
