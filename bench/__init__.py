"""City-scale benchmarks: `make bench` (never part of `make test`). `--scale demo --requests 50` is a quick pass."""
