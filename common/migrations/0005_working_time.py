"""Working time in SQL: the interval table's rebuild (a statement trigger on the calendar's tables) and
the functions every deadline goes through, then the default schedule and the official calendar.

(The comparisons with after_s are on bigint, ceil/floor of the target, so that its index serves them:
compared with a double precision the column would be cast and every call would scan the table.)

Positions: gridgis_working_position(t) is the working seconds from 2000-01-01 to t, read off the
interval that starts at or before t (two index lookups, whatever the number of holidays in between).
A deadline is the instant whose position is the start's plus the limit; time left and lateness are
differences of positions. Plain SQL functions (STABLE, PARALLEL SAFE) that statements over millions of
cases call per row; see common.models for the rule and common/workcalendar.py for the Python side.
"""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION gridgis_rebuild_working_intervals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- With no schedule or no period (a flushed test database), the default 08:30-12:00, 14:00-17:30.
    DELETE FROM common_workinginterval;
    INSERT INTO common_workinginterval (starts, ends, before_s, after_s)
    WITH schedule AS (
        SELECT id, time_zone FROM common_workschedule ORDER BY id LIMIT 1
    ),
    periods AS (
        SELECT s.time_zone, p.starts, p.ends
        FROM schedule s JOIN common_workperiod p ON p.schedule_id = s.id
        UNION ALL
        SELECT COALESCE((SELECT time_zone FROM schedule), 'Asia/Shanghai'), d.starts, d.ends
        FROM (VALUES (time '08:30', time '12:00'), (time '14:00', time '17:30')) AS d(starts, ends)
        WHERE NOT EXISTS (SELECT 1 FROM schedule s JOIN common_workperiod p ON p.schedule_id = s.id)
    ),
    intervals AS (
        SELECT (g.day + p.starts) AT TIME ZONE p.time_zone AS starts,
               (g.day + p.ends) AT TIME ZONE p.time_zone AS ends,
               EXTRACT(EPOCH FROM p.ends - p.starts)::bigint AS length_s
        FROM generate_series(date '2000-01-01', date '2099-12-31', interval '1 day') AS s(d)
        CROSS JOIN LATERAL (SELECT s.d::date AS day) AS g
        LEFT JOIN common_calendarday cd ON cd.day = g.day
        CROSS JOIN periods p
        WHERE COALESCE(cd.kind = 'workday', EXTRACT(ISODOW FROM g.day) < 6)
    ),
    summed AS (
        SELECT starts, ends, length_s, sum(length_s) OVER (ORDER BY starts) AS after_s FROM intervals
    )
    SELECT starts, ends, after_s - length_s, after_s FROM summed;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION gridgis_working_position(t timestamptz) RETURNS double precision
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(
        (SELECT w.before_s + LEAST(EXTRACT(EPOCH FROM t - w.starts)::double precision, w.after_s - w.before_s)
         FROM common_workinginterval w WHERE w.starts <= t ORDER BY w.starts DESC LIMIT 1),
        0)
$$;

-- THE rule: `start` plus `minutes` of working time ('working') or clock time ('clock'), as a one-row
-- table so that PostgreSQL inlines it into the statement that calls it (CROSS JOIN LATERAL
-- gridgis_due_at(...)): over millions of cases it costs two index lookups per row and no function
-- call. A working deadline is the first instant whose position reaches the start's plus the limit.
CREATE OR REPLACE FUNCTION gridgis_due_at(start timestamptz, minutes integer, clock text)
RETURNS TABLE(due timestamptz) LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN clock = 'clock' THEN start + minutes * interval '1 minute'
                WHEN clock = 'working' AND minutes <= 0 THEN start
                WHEN clock = 'working' THEN e.starts + (p.target - e.before_s) * interval '1 second' END
    FROM (SELECT COALESCE(max(w.before_s + LEAST(EXTRACT(EPOCH FROM start - w.starts)::double precision,
                                                 w.after_s - w.before_s)), 0) + minutes * 60.0 AS target
          FROM (SELECT * FROM common_workinginterval w
                WHERE clock = 'working' AND w.starts <= start ORDER BY w.starts DESC LIMIT 1) AS w) AS p
    LEFT JOIN LATERAL (SELECT w.starts, w.before_s FROM common_workinginterval w
                       WHERE clock = 'working' AND w.after_s >= ceil(p.target)::bigint
                       ORDER BY w.after_s LIMIT 1) AS e ON true
$$;

-- The last instant from which at least `seconds` of working time pass until `t` (lateness cut-offs).
CREATE OR REPLACE FUNCTION gridgis_working_back(t timestamptz, seconds double precision)
RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN seconds <= 0 THEN t ELSE LEAST(t, (
        SELECT w.starts + (p.target - w.before_s) * interval '1 second'
        FROM common_workinginterval w WHERE w.after_s > floor(p.target)::bigint ORDER BY w.after_s LIMIT 1
    )) END
    FROM (SELECT gridgis_working_position(t) - seconds AS target) AS p
$$;

-- The same rule as a plain value, for one deadline at a time (a case's step, the API).
CREATE OR REPLACE FUNCTION gridgis_due(start timestamptz, minutes integer, clock text)
RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT due FROM gridgis_due_at(start, minutes, clock)
$$;

CREATE OR REPLACE FUNCTION gridgis_working_seconds(a timestamptz, b timestamptz) RETURNS double precision
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT gridgis_working_position(b) - gridgis_working_position(a)
$$;

-- Time left until `due`: working seconds for a working-time limit, clock seconds otherwise; negative late.
CREATE OR REPLACE FUNCTION gridgis_time_left_seconds(now timestamptz, due timestamptz, clock text)
RETURNS double precision LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN due IS NULL THEN NULL
                WHEN clock = 'working' THEN gridgis_working_seconds(now, due)
                ELSE EXTRACT(EPOCH FROM due - now)::double precision END
$$;

-- Whether every year from a to b (in the schedule's time zone) has its official schedule entered.
CREATE OR REPLACE FUNCTION gridgis_calendar_complete(a timestamptz, b timestamptz) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT NOT EXISTS (
        SELECT 1
        FROM (SELECT COALESCE((SELECT time_zone FROM common_workschedule ORDER BY id LIMIT 1), 'Asia/Shanghai')
              AS tz) AS z,
             generate_series(EXTRACT(YEAR FROM LEAST(a, b) AT TIME ZONE z.tz)::int,
                             EXTRACT(YEAR FROM GREATEST(a, b) AT TIME ZONE z.tz)::int) AS y(year)
        WHERE NOT EXISTS (SELECT 1 FROM common_calendaryear c WHERE c.year = y.year)
    )
$$;

-- False when a working-time deadline runs through a year whose official schedule is not entered
-- (counted Monday to Friday): the screens and the API say so until the year is entered.
CREATE OR REPLACE FUNCTION gridgis_deadline_on_calendar(start timestamptz, due timestamptz, clock text)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT clock IS DISTINCT FROM 'working' OR due IS NULL OR gridgis_calendar_complete(COALESCE(start, due), due)
$$;
"""

TRIGGERS = "\n".join(
    f"""
CREATE TRIGGER {table}_rebuild_intervals
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
FOR EACH STATEMENT EXECUTE FUNCTION gridgis_rebuild_working_intervals();
"""
    for table in ("common_workschedule", "common_workperiod", "common_calendarday")
)

DROP = """
DROP TRIGGER IF EXISTS common_workschedule_rebuild_intervals ON common_workschedule;
DROP TRIGGER IF EXISTS common_workperiod_rebuild_intervals ON common_workperiod;
DROP TRIGGER IF EXISTS common_calendarday_rebuild_intervals ON common_calendarday;
DROP FUNCTION IF EXISTS gridgis_deadline_on_calendar(timestamptz, timestamptz, text);
DROP FUNCTION IF EXISTS gridgis_time_left_seconds(timestamptz, timestamptz, text);
DROP FUNCTION IF EXISTS gridgis_calendar_complete(timestamptz, timestamptz);
DROP FUNCTION IF EXISTS gridgis_working_seconds(timestamptz, timestamptz);
DROP FUNCTION IF EXISTS gridgis_due(timestamptz, integer, text);
DROP FUNCTION IF EXISTS gridgis_working_back(timestamptz, double precision);
DROP FUNCTION IF EXISTS gridgis_due_at(timestamptz, integer, text);
DROP FUNCTION IF EXISTS gridgis_working_position(timestamptz);
DROP FUNCTION IF EXISTS gridgis_rebuild_working_intervals();
"""


def default_schedule_and_official_calendar(apps, schema_editor):
    import datetime

    from common import workcalendar

    schedule_model = apps.get_model("common", "WorkSchedule")
    period_model = apps.get_model("common", "WorkPeriod")
    schedule = schedule_model.objects.create(name="工作时间", time_zone="Asia/Shanghai")
    period_model.objects.bulk_create(
        [
            period_model(schedule=schedule, starts=datetime.time(8, 30), ends=datetime.time(12, 0)),
            period_model(schedule=schedule, starts=datetime.time(14, 0), ends=datetime.time(17, 30)),
        ]
    )
    workcalendar.load_package(apps.get_model("common", "CalendarYear"), apps.get_model("common", "CalendarDay"))


class Migration(migrations.Migration):
    dependencies = [("common", "0004_working_calendar")]

    operations = [
        migrations.RunSQL(FUNCTIONS + TRIGGERS, DROP),
        migrations.RunPython(default_schedule_and_official_calendar, migrations.RunPython.noop),
    ]
