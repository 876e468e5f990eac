from django.apps import AppConfig


class GridsConfig(AppConfig):
    name = "layers.grids"
    label = "grids"
    verbose_name = "网格 Grids"

    def ready(self):
        from common.publishing import Collection, register_collection
        from common.scopes import DISPATCHER, PLANNER, SEES_EVERYTHING, Rule, register_rule

        # A grid is seen by whoever holds a duty in its subtree, and by a handler whose department
        # serves its district (to find the department's cases on a map).
        register_rule("grid", Rule(SEES_EVERYTHING | {DISPATCHER, PLANNER}, grid_code="code", district_code="code"))
        register_collection(
            Collection(
                id="grids",
                title="Grids 网格",
                model="grids.Grid",
                geometry="boundary",
                id_field="code",
                description="The grid tree from district to micro-grid; level 1 district ... 5 micro-grid.",
                properties=("code", "name", "level", "district_code", "households", "population"),
                rows=lambda qs: qs.filter(is_active=True),
                kind="grid",
            )
        )
