"""The benchmark suites `make bench` runs, in order: (name, function(args) -> list[Result]).

Each layer's bench module measures its own figures; the adapters here turn them into table rows
with the baseline measured in the same run.
"""

from bench import audits, clocks, estates, field, grids, incidents, inspections, maps, office, plans
from bench.common import Result


def cases(args) -> list[Result]:
    figures = incidents.prepare_cases(args.cases)
    print(f"bench: cases ready: {figures}", flush=True)
    return []


def intake(args) -> list[Result]:
    f = incidents.intake_http(requests_count=max(100, args.requests // 2))
    return [
        Result(
            "case intake POST via HTTP (no photos)",
            f["intake_p50_ms"],
            f["intake_p99_ms"],
            "raw SQL smallest covering grid",
            f["sql_lookup_p50_ms"],
            target="p99 ≤ 40 ms",
            extra={"requests": f["requests"], "cases": f["cases"]},
        )
    ]


def reassignment(args) -> list[Result]:
    redraw = incidents.reassign_after_redraw()
    full = incidents.reassign_full()
    during = incidents.intake_during_reassignment()
    # The same at a steady ten reports a second (two clients, one every 0.2 s each): what the service
    # sees of the run when the clients do not queue up behind their own answers.
    paced = incidents.intake_during_reassignment(every_s=0.2)
    to_ms = 1000.0
    tenth = full["tenth_moves"]
    return [
        Result(
            "reassign all cases, none moves (join and compare)",
            full["set_based_noop_s"] * to_ms,
            target="≤ 20 s at 2.2 M cases",
            extra={"cases": full["cases"]},
        ),
        Result(
            f"reassign all cases, {tenth['share']:.0%} move (written in place with trail)",
            tenth["seconds"] * to_ms,
            target="≤ 20 s at 2.2 M cases",
            extra={k: tenth[k] for k in ("moved", "strategy", "steps")},
        ),
        Result(
            "reassign all cases, every case rewritten (set-based, grid-driven)",
            full["set_based_all_rows_s"] * to_ms,
            None,
            "hand-written case-driven UPDATE",
            full["hand_written_case_driven_s"] * to_ms,
            target="online ≤ 120 s at 2.2 M cases",
            extra={
                "cases": full["cases"],
                "moved": full["set_based_all_rows_moved"],
                "strategy": full["set_based_strategy"],
                "steps": full["set_based_steps"],
                "plain_update_of_every_row_s": full["plain_update_all_rows_s"],
                "writers": full["writers"],
                "two_writers_s": full["two_writers_all_rows_s"],
                "two_writers_steps": full["two_writers_steps"],
                "offline_one_transaction_s": full["offline_all_rows_s"],
                "offline_strategy": full["offline_strategy"],
                "nothing_moves_s": full["set_based_noop_s"],
            },
        ),
        Result(
            "per-case ORM loop (sample, extrapolated to all cases)",
            full["orm_loop_extrapolated_s"] * to_ms,
            None,
            "set-based, every case rewritten",
            full["set_based_all_rows_s"] * to_ms,
            extra={"sample": full["orm_loop_sample"], "ms_per_case": full["orm_loop_ms_per_case"]},
        ),
        *[
            row
            for figures in (during, paced)
            for row in (
                _beside_reassignment(
                    "intake", "case intake POST", figures, "", target="p99 ≤ 40 ms, no request over 1 s"
                ),
                _beside_reassignment(
                    "workflow steps", "register or dispatch POST", figures, "steps_", target="p99 ≤ 100 ms"
                ),
            )
        ],
        Result(
            "reassign after redrawing 10 micro-grids (affected cases only)",
            redraw["seconds"] * to_ms,
            target="≤ 1 s",
            extra={k: redraw[k] for k in ("examined", "moved", "changed_grids_found")},
        ),
    ]


def _beside_reassignment(what: str, request: str, during: dict, prefix: str, target: str) -> Result:
    """One row of bench.incidents.intake_during_reassignment: `what` while the run writes, beside the same
    requests with nothing running (its figures under "quiet"/"during", or "steps_quiet"/"steps_during")."""
    busy, quiet = during[f"{prefix}during"], during[f"{prefix}quiet"]
    pace = f", reports every {during['every_s']} s a client" if during["every_s"] else ""
    return Result(
        f"{what} during reassignment ({during['share']:.0%} of cases move, online batches{pace})",
        busy["p50_ms"],
        busy["p99_ms"],
        f"{what} with nothing running",
        quiet["p50_ms"],
        target=target,
        extra={
            "request": request,
            "max_ms": busy["max_ms"],
            "quiet_p99_ms": quiet["p99_ms"],
            "quiet_max_ms": quiet["max_ms"],
            "requests": busy["requests"],
            "statuses": busy["statuses"],
            # This machine's cores in each round: busy, idle, taken by the hypervisor (steal).
            "cores_during": during["cores_during"],
            "cores_quiet": during["cores_quiet"],
            "longest_lock_wait_ms": during["longest_lock_wait_ms"],
            "longest_lock_wait": during["longest_lock_wait"],
            "reassign_s": during["reassign_s"],
            "moved": during["moved"],
            "batches": during["batches"],
            "writers": during["writers"],
        },
    )


def working_time(args) -> list[Result]:
    # A million deadlines at city scale; the demo's smoke run computes as many as it has cases.
    total = 1_000_000 if args.scale == "city" else max(1000, args.cases)
    due = clocks.due_times(total)
    run = clocks.escalation_working()
    return [
        Result(
            f"due times set-based, working hours ({due['deadlines']:,} deadlines)",
            due["working_s"] * 1000.0,
            None,
            "plain timestamp + interval, same count",
            due["plain_s"] * 1000.0,
            target="≤ 10 s for 1 M",
            extra={"deadlines": due["deadlines"]},
        ),
        Result(
            "escalation with working-time deadlines, steady state (every case, rolled back)",
            run["seconds"] * 1000.0,
            None,
            "the first run, catching up every overdue case",
            run["catch_up_s"] * 1000.0,
            target="≤ 5 s at 2.2 M cases",
            extra={key: run[key] for key in ("cases", "open_working", "climbed", "catch_up_climbed")},
        ),
        Result(
            "working-time limits applied to every open case (one statement)",
            run["apply_limits_s"] * 1000.0,
            extra={"cases_changed": run["limits_applied_to"]},
        ),
    ]


SUITES = [
    ("locate", lambda args: grids.bench_locate(requests=args.requests)),
    ("cases", cases),
    ("intake", intake),
    ("reassign", reassignment),
    ("clocks", working_time),
    ("estates", lambda args: estates.bench_estates(max(10, args.requests // 40))),
    ("inspections", lambda args: inspections.bench_inspections(max(10, args.requests // 40))),
    ("audits", lambda args: audits.bench_audits()),
    ("maps", maps.suite),
    ("plans", lambda args: plans.bench_plans(enforce=args.scale == "city")),
    ("field", field.suite),
    ("office", office.suite),
]
