"""Names of case fields that several lists share (no model import: layers/incidents/apps.py reads them
before the app registry is ready)."""

# A case's counters and its times, in the order the API and the published OGC collection list them.
COUNTS_AND_TIMES = (
    "me_too_count",
    "rework_count",
    "escalation_level",
    "reported_at",
    "due_at",
    "final_due_at",
    "closed_at",
)
