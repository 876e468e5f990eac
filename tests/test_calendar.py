"""The working calendar: deadlines counted by hand across the 2026 Spring Festival and National Day,
the lunch break, a request at night, local days, a year the package does not cover, the schedule, and
the `GET /api/v1/calendar/due/` endpoint.

Default schedule: 08:30-12:00 and 14:00-17:30 (3.5 h + 3.5 h = 7 working hours a day), Monday to Friday,
with the State Council's 2026 schedule: 15-23 February off (Spring Festival), Saturday 14 and Saturday
28 February worked; 1-7 October off (National Day), Sunday 20 September and Saturday 10 October worked.
"""

import datetime

import pytest

from common import workcalendar
from common.models import CalendarDay, CalendarYear, DaySource, WorkPeriod, WorkSchedule
from tests.factories_incidents import china_time as at

pytestmark = pytest.mark.django_db


@pytest.fixture
def official():
    """The package's schedule entered (a flush by an earlier transactional test empties the tables)."""
    workcalendar.load_package()


def test_the_package_covers_2004_to_2026_and_not_2027(official):
    years, days = workcalendar.package_schedule()
    assert years[0] == 2004 and years[-1] == 2026
    assert workcalendar.missing_years(2025, 2027) == [2027]
    spring = {d: kind for d, kind, _ in days if datetime.date(2026, 2, 13) <= d <= datetime.date(2026, 3, 1)}
    assert spring[datetime.date(2026, 2, 14)] == "workday" and spring[datetime.date(2026, 2, 28)] == "workday"
    assert all(spring[datetime.date(2026, 2, day)] == "holiday" for day in range(15, 24))


@pytest.mark.parametrize(
    "start, minutes, clock, expected, why",
    [
        # The example: 1.5 h on Friday, 3.5 h Saturday morning (a working Saturday), 3 h after lunch.
        (at(2026, 2, 13, 16, 0), 8 * 60, "working", at(2026, 2, 14, 17, 0), "Spring Festival, worked Saturday"),
        (at(2026, 2, 13, 16, 0), 8 * 60, "clock", at(2026, 2, 14, 0, 0), "clock hours run through the night"),
        # 11:00-12:00 is one hour, the lunch break does not count, 14:00-15:00 the second.
        (at(2026, 2, 13, 11, 0), 2 * 60, "working", at(2026, 2, 13, 15, 0), "across the lunch break"),
        # A request during the lunch break starts counting at 14:00.
        (at(2026, 2, 13, 12, 30), 30, "working", at(2026, 2, 13, 14, 30), "asked during lunch"),
        # 23:00 Friday: Saturday 14 gives 7 h, then 15-23 February are off; Tuesday 24th 08:30 + 1 h.
        (at(2026, 2, 13, 23, 0), 8 * 60, "working", at(2026, 2, 24, 9, 30), "at 23:00 before the holiday"),
        # Exactly the end of the day is still that day, not the next morning.
        (at(2026, 2, 13, 17, 0), 30, "working", at(2026, 2, 13, 17, 30), "ends at closing time"),
        # Friday 27 Feb 17:00 + 1 h: 0.5 h Friday, Saturday 28 February is worked: 09:00.
        (at(2026, 2, 27, 17, 0), 60, "working", at(2026, 2, 28, 9, 0), "second make-up Saturday"),
        # National Day: Wednesday 30 Sep 1.5 h; 1-7 October off; Thursday 8 October 3.5 h + 3 h.
        (at(2026, 9, 30, 16, 0), 8 * 60, "working", at(2026, 10, 8, 17, 0), "National Day"),
        # Friday 18 Sep 17:00 + 1 h: 0.5 h Friday, Saturday 19th off, Sunday 20th worked: 09:00.
        (at(2026, 9, 18, 17, 0), 60, "working", at(2026, 9, 20, 9, 0), "worked Sunday 20 September"),
        (at(2026, 10, 9, 17, 0), 60, "working", at(2026, 10, 10, 9, 0), "worked Saturday 10 October"),
        # An ordinary weekend: Friday 6 Mar 17:00 + 1 h is Monday 9 March 09:00.
        (at(2026, 3, 6, 17, 0), 60, "working", at(2026, 3, 9, 9, 0), "an ordinary weekend"),
        (at(2026, 3, 6, 17, 0), 0, "working", at(2026, 3, 6, 17, 0), "no time at all"),
    ],
)
def test_deadlines_counted_by_hand(official, start, minutes, clock, expected, why):
    assert workcalendar.due(start, minutes, clock) == expected, why


def test_working_seconds_are_the_inverse_of_the_deadline(official):
    start = at(2026, 2, 13, 16, 0)
    assert workcalendar.working_seconds(start, at(2026, 2, 14, 17, 0)) == 8 * 3600
    assert workcalendar.working_seconds(at(2026, 2, 14, 17, 0), start) == -8 * 3600
    # The whole Spring Festival week holds no working time.
    assert workcalendar.working_seconds(at(2026, 2, 14, 17, 30), at(2026, 2, 24, 8, 30)) == 0


def test_a_year_the_package_does_not_cover_counts_monday_to_friday_until_it_is_entered(official):
    # 2027's Spring Festival falls on Saturday 6 February; the package knows nothing of 2027.
    start = at(2027, 2, 5, 16, 0)
    assert workcalendar.due(start, 8 * 60, "working") == at(2027, 2, 8, 17, 0)  # Friday 1.5 h, Monday 6.5 h
    assert not workcalendar.calendar_complete(start, at(2027, 2, 8, 17, 0))
    # An administrator enters the notice: 8-12 February off, then the year itself.
    CalendarDay.objects.bulk_create(
        [CalendarDay(day=datetime.date(2027, 2, d), kind="holiday", name="春节") for d in range(8, 13)]
    )
    assert workcalendar.due(start, 8 * 60, "working") == at(2027, 2, 15, 17, 0)
    assert not workcalendar.calendar_complete(start, at(2027, 2, 15, 17, 0))
    CalendarYear.objects.create(year=2027, note="国务院办公厅通知")
    assert workcalendar.calendar_complete(start, at(2027, 2, 15, 17, 0))


def test_a_local_holiday_and_a_duty_day_move_deadlines(official):
    start = at(2026, 3, 6, 17, 0)  # a Friday
    CalendarDay.objects.create(day=datetime.date(2026, 3, 7), kind="workday", name="创文迎检 duty day")
    assert workcalendar.due(start, 60, "working") == at(2026, 3, 7, 9, 0)
    CalendarDay.objects.filter(day=datetime.date(2026, 3, 7)).delete()
    CalendarDay.objects.create(day=datetime.date(2026, 3, 9), kind="holiday", name="local holiday")
    assert workcalendar.due(start, 60, "working") == at(2026, 3, 10, 9, 0)


def test_loading_the_package_again_keeps_days_entered_here(official):
    day = CalendarDay.objects.get(day=datetime.date(2026, 2, 14))
    day.kind, day.source, day.name = "holiday", DaySource.LOCAL, "本地调整"
    day.save()
    assert workcalendar.load_package()["days"] == 0
    assert CalendarDay.objects.get(day=datetime.date(2026, 2, 14)).kind == "holiday"


def test_an_edited_schedule_changes_deadlines(official):
    schedule = WorkSchedule.objects.order_by("id").first() or WorkSchedule.objects.create()
    schedule.periods.all().delete()
    WorkPeriod.objects.create(schedule=schedule, starts=datetime.time(9, 0), ends=datetime.time(12, 0))
    WorkPeriod.objects.create(schedule=schedule, starts=datetime.time(13, 30), ends=datetime.time(18, 0))
    assert workcalendar.due(at(2026, 3, 6, 17, 0), 2 * 60, "working") == at(2026, 3, 9, 10, 0)


# --- The endpoint -------------------------------------------------------------------------------------------


def test_the_due_endpoint_answers_by_the_same_rule(api, official):
    answer = api.get("/api/v1/calendar/due/", {"start": "2026-02-13T16:00:00+08:00", "minutes": 480})
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"due": "2026-02-14T17:00:00+08:00", "clock": "working", "on_calendar": True}
    answer = api.get("/api/v1/calendar/due/", {"start": "2026-02-13T08:00:00Z", "minutes": 480, "clock": "clock"})
    assert answer.json()["due"] == "2026-02-14T00:00:00+08:00"  # 08:00 UTC is 16:00 in Beijing
    answer = api.get("/api/v1/calendar/due/", {"start": "2027-02-05T16:00:00+08:00", "minutes": 480})
    assert answer.json() == {"due": "2027-02-08T17:00:00+08:00", "clock": "working", "on_calendar": False}


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": "13 Feb 2026 4pm", "minutes": 60}, "start"),
        ({"start": "2026-02-13T16:00:00", "minutes": 60}, "start"),  # no offset
        ({"start": "2026-02-31T16:00:00+08:00", "minutes": 60}, "start"),
        ({"start": "1970-01-01T00:00:00+08:00", "minutes": 60}, "start"),
        ({"minutes": 60}, "start"),
        ({"start": "2026-02-13T16:00:00+08:00", "minutes": -1}, "minutes"),
        ({"start": "2026-02-13T16:00:00+08:00", "minutes": 10**9}, "minutes"),
        ({"start": "2026-02-13T16:00:00+08:00", "minutes": "²"}, "minutes"),
        ({"start": "2026-02-13T16:00:00+08:00"}, "minutes"),
        ({"start": "2099-12-30T16:00:00+08:00", "minutes": 100_000}, "minutes"),  # past the calendar's end
        ({"start": "2026-02-13T16:00:00+08:00", "minutes": 60, "clock": "lunar"}, "clock"),
    ],
)
def test_the_due_endpoint_refuses_bad_input_naming_the_field(api, official, params, field):
    answer = api.get("/api/v1/calendar/due/", params)
    assert answer.status_code == 400, answer.content
    assert answer.json()["detail"].startswith(f"{field}:"), answer.json()
