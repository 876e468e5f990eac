from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "layers.audits"
    label = "audits"

    def ready(self):
        from common.publishing import Collection, register_collection
        from common.scopes import SEES_EVERYTHING, Rule, register_rule

        register_rule("audit", Rule(SEES_EVERYTHING))
        register_collection(
            Collection(
                id="audit-findings",
                title="Audit findings 审计发现",
                model="audits.Finding",
                geometry="geometry",
                description="Dead corners found by the latest finished audit run: gaps, overlaps, parts outside "
                "their parent, orphan grids, hotspots, dead-corner cases.",
                properties=(
                    "kind",
                    "measure",
                    "unit",
                    "grid_code",
                    "grid_name",
                    "other_grid_code",
                    "district_code",
                    "run=run_id",
                ),
                rows=_latest_findings,
                kind="audit",
            )
        )


def _latest_findings(qs):
    """The findings (with a geometry) of the most recent finished audit run."""
    from layers.audits.models import AuditRun

    latest = AuditRun.objects.filter(status="done").order_by("-finished_at", "-id").values("id")[:1]
    return qs.filter(run__in=latest, geometry__isnull=False)
