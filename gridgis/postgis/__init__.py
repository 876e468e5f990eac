"""gridgis's database engine: GeoDjango's PostGIS backend, made safe for server-side binding (base.py)."""
