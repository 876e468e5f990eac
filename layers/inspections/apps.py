from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "layers.inspections"
    label = "inspections"

    def ready(self):
        from layers.grids import places
        from layers.inspections import selectors

        places.register(
            places.PlaceSource(
                key="inspection_points",
                kinds={"inspection_point": "点位 inspection point"},
                name_field="name",
                queryset=selectors.point_places,
            )
        )
