"""City-scale benchmarks: `make bench`. Never part of `make test` (tests/test_bench_smoke.py runs a tiny pass)."""
