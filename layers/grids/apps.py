from django.apps import AppConfig


class GridsConfig(AppConfig):
    name = "layers.grids"
    label = "grids"
    verbose_name = "网格 Grids"

    def ready(self):
        from layers.grids import places, selectors

        places.register(
            places.PlaceSource(
                key="grids",
                kinds={"street": "街道/镇 street", "community": "社区/村 community", "grid": "网格 grid"},
                name_field="name",
                queryset=selectors.grid_places,
            )
        )
