"""The benchmark suites `make bench` runs, in order: (name, function(args) -> list[Result])."""

from bench import grids, maps

SUITES = [
    ("locate", lambda args: grids.bench_locate(requests=args.requests)),
    ("maps", maps.suite),
]
