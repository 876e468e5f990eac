from django.apps import AppConfig


class EstatesConfig(AppConfig):
    name = "layers.estates"
    label = "estates"

    def ready(self):
        from common.publishing import Collection, register_collection
        from common.scopes import PLANNER, SEES_EVERYTHING, Rule, register_rule

        readers = SEES_EVERYTHING | {PLANNER}
        register_rule("estate", Rule(readers, grid_code="community__code"))
        register_rule("suggestion", Rule(readers, grid_code="estate__community__code"))
        # Projects reach their communities through the estates they renovate (many to many).
        register_rule("project", Rule(readers, grid_code="estates__community__code", through_subquery=True))
        register_rule("work_item", Rule(readers, grid_code="project__estates__community__code", through_subquery=True))
        register_collection(
            Collection(
                id="estates",
                title="Estates 小区",
                model="estates.Estate",
                geometry="boundary",
                description="Old residential estates and their management type.",
                properties=(
                    "code",
                    "name",
                    "community=community__code",
                    "address",
                    "buildings",
                    "households",
                    "year_built",
                    "management_type",
                    "has_party_organisation",
                    "has_owners_committee",
                ),
                kind="estate",
            )
        )
        register_collection(
            Collection(
                id="renovation-projects",
                title="Renovation footprints 改造项目",
                model="estates.RenovationProject",
                geometry="footprint",
                description="Old-estate renovation projects by batch and status.",
                properties=("name", "batch", "status", "starts_on", "ends_on", "budget", "description"),
                kind="project",
            )
        )
