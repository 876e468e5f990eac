"""gridgis's database engine: GeoDjango's PostGIS backend, with the geometry types looked up per connection."""
