from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "layers.inspections"
    label = "inspections"

    def ready(self):
        from django.utils import timezone

        from common.publishing import Collection, register_collection
        from common.scopes import SEES_EVERYTHING, Rule, register_rule

        register_rule("point", Rule(SEES_EVERYTHING, grid_code="grid__code"))
        register_rule("patrol", Rule(SEES_EVERYTHING, grid_code="grid__code", person="officer_id"))
        # A schedule for the whole community concerns the officer of one of its grids too.
        register_rule("schedule", Rule(SEES_EVERYTHING, grid_code="scope__code", ancestors_too=True))
        register_collection(
            Collection(
                id="inspection-points",
                title="Inspection points 实地考察点位",
                model="inspections.InspectionPoint",
                geometry="location",
                description="Places officers check in at on patrol.",
                properties=(
                    "code",
                    "name",
                    "category=category__code",
                    "category_name=category__name",
                    "address",
                    "grid=grid__code",
                    "street=street__code",
                    "responsible_leader=responsible_leader__name",
                    "task_group=task_group__name",
                    "partner_department=partner_department__name",
                ),
                rows=lambda qs: qs.filter(is_active=True),
                kind="point",
            )
        )
        register_collection(
            Collection(
                id="patrols-today",
                title="Today's patrol tracks 今日巡查轨迹",
                model="inspections.Patrol",
                geometry="track",
                description="GPS tracks of the patrols started today (Asia/Shanghai).",
                properties=("officer=officer__name", "grid=grid__code", "started_at", "ended_at", "track_positions"),
                rows=lambda qs: qs.filter(started_at__date=timezone.localdate(), track__isnull=False),
                kind="patrol",
            )
        )
