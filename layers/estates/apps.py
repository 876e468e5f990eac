from django.apps import AppConfig


class EstatesConfig(AppConfig):
    name = "layers.estates"
    label = "estates"

    def ready(self):
        from layers.estates import selectors
        from layers.grids import places

        places.register(
            places.PlaceSource(
                key="estates", kinds={"estate": "小区 estate"}, name_field="name", queryset=selectors.estate_places
            )
        )
