"""The benchmark suites `make bench` runs, in order: (name, function(args) -> list[Result])."""

from bench import audits, grids

SUITES = [
    ("locate", lambda args: grids.bench_locate(requests=args.requests)),
    ("audits", lambda args: audits.bench_audits()),
]
