"""How stale a replica read is right after a commit, on the cluster of `make cluster` (bare psycopg
clients, no app): the figure behind the read-your-writes window of common/routing.py.

    python -m bench.replicas [--tries 500]

For each try: commit one row through the write port, then read it at once through the read port
(HAProxy, round robin over the replicas) and poll until it is there. Prints the share of tries whose
first read missed the row and how long the row took to appear (p50, p99, max).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from gridgis import cluster


def measure(tries: int, database: str = "postgres") -> dict:
    import psycopg

    def connect(port):
        return psycopg.connect(host="127.0.0.1", port=port, user=cluster.DB_USER, dbname=database, autocommit=True)

    with connect(cluster.WRITE_PORT) as writer, connect(cluster.READ_PORT) as reader:
        writer.execute("CREATE TABLE IF NOT EXISTS replica_staleness (id bigserial PRIMARY KEY)")
        time.sleep(1)
        stale, delays = 0, []
        for _ in range(tries):
            row_id = writer.execute("INSERT INTO replica_staleness DEFAULT VALUES RETURNING id").fetchone()[0]
            committed = time.perf_counter()
            first = True
            while reader.execute("SELECT 1 FROM replica_staleness WHERE id = %s", [row_id]).fetchone() is None:
                if first:
                    stale += 1
                    first = False
            delays.append(time.perf_counter() - committed)
        writer.execute("DROP TABLE replica_staleness")
    delays.sort()
    return {
        "tries": tries,
        "stale_first_read_share": round(stale / tries, 3),
        "visible_after_ms_p50": round(1000 * delays[len(delays) // 2], 2),
        "visible_after_ms_p99": round(1000 * delays[int(0.99 * (len(delays) - 1))], 2),
        "visible_after_ms_max": round(1000 * delays[-1], 2),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=500)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.tries), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
