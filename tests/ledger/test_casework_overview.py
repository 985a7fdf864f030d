"""The overview's figures on a small known data set, on SQLite and PostgreSQL: every number
below is worked out by hand from the story in `story`, not read back from the code."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from casework.overview import FALLBACK_INTENT, RECENT_DAYS
from casework.records import Count, DayCount, FallbackItem, UsageYear
from ledger import CreateEmployment, IssueCard
from tests.ledger.casework_support import (
    ADA,
    JENS_PHONE,
    JENS_TELEGRAM,
    KIM,
    METTE_PHONE,
    OLE,
    SARA,
    World,
    make_world,
    refused,
)
from tests.ledger.support import ADMIN, fresh_cpr, raw_engine, wage, world_fixture

world = world_fixture(make_world)


STRANGER = "+4560606060"
UTC = dt.UTC
DAY1_NOON = dt.datetime(2025, 6, 17, 12, tzinfo=UTC)
DAY2_NOON = dt.datetime(2025, 6, 18, 12, tzinfo=UTC)


def _old_card_with_a_2024_report(world: World) -> str:
    """Ib: an Aarhus card issued in 2023 and used in 2024 (not in 2025)."""
    ib = world.ledger.issue_card(IssueCard(cpr=fresh_cpr(), name="Ib Gammel",
                                           municipality_code="751",
                                           valid_from=dt.date(2024, 1, 1)), actor=ADMIN).number
    engine = raw_engine(world.url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE cards SET issued_on = :d WHERE number = :n"),
                     {"d": dt.date(2023, 5, 1), "n": ib})
    engine.dispose()
    world.ledger.create_employment(CreateEmployment(
        employer_cvr=world.cvr, card_number=ib, start_date=dt.date(2024, 1, 1),
        weekly_hours=Decimal(4)), actor=ADMIN)
    world.ledger.report_wage(wage(world.cvr, ib, 300_00, "ib-2024", post=True,
                                  paid_on=dt.date(2024, 3, 1)), actor=ADMIN)
    return ib


def story(world: World) -> None:
    """Three days in Aarhus (and a little in København). Times are UTC; Denmark is UTC+2."""
    cw = world.ledger.casework
    _old_card_with_a_2024_report(world)
    world.ledger.report_wage(wage(world.cvr, world.jens, 100_00, "j1", post=True), actor=ADMIN)
    world.ledger.report_wage(wage(world.cvr, world.mette, 100_00, "m1", post=True), actor=ADMIN)
    # Day 0, 16 June, 12:00.
    world.say("sms", JENS_PHONE, "hej")
    world.say("telegram", JENS_TELEGRAM, "blorp", intent=FALLBACK_INTENT, replies=("Undskyld",))
    world.say("sms", STRANGER, "blorp", intent=FALLBACK_INTENT, replies=("Undskyld",))
    calm = world.escalate("sms", JENS_PHONE)
    a = world.apply("sms", "+4522000001", name="Anne A", cpr=fresh_cpr())
    world.clock.advance(minutes=30)
    cw.take(SARA, calm)                                    # response 30 min
    world.clock.advance(hours=1)
    e = world.apply("sms", "+4522000002", name="Eva E", cpr=fresh_cpr())
    world.clock.advance(hours=1)
    cw.approve(SARA, e)                                    # processed in 1 h
    b = world.apply("sms", "+4522000003", name="Bo B", cpr=fresh_cpr())
    world.clock.advance(hours=6)                           # 20:30 UTC, 22:30 in Denmark
    cw.reject(SARA, b, "Du er ikke i målgruppen")          # processed in 6 h
    # Day 1, 17 June, 12:00.
    world.clock.now = DAY1_NOON
    world.say("sms", JENS_PHONE, "Blorp ", intent=FALLBACK_INTENT, replies=("Undskyld",))
    urgent = world.escalate("telegram", JENS_TELEGRAM, urgent=True, reason="crisis:x")
    world.clock.advance(minutes=10)
    cw.take(SARA, urgent)                                  # response 10 min
    # Day 2, 18 June, 12:00.
    world.clock.now = DAY2_NOON
    cw.approve(SARA, a)                                    # processed in 2 days
    world.apply("sms", "+4522000004", name="Carl C", cpr=fresh_cpr())          # still open
    world.apply("sms", "+4522000005", name="Dorte D", cpr=fresh_cpr(), municipality="101")
    world.say("sms", METTE_PHONE, "hej")
    world.say("sms", JENS_PHONE, "ok", intent=FALLBACK_INTENT, replies=())   # to a person


def _days(counts: dict[dt.date, int]) -> tuple[DayCount, ...]:
    last = dt.date(2025, 6, 18)
    days = [last - dt.timedelta(days=n) for n in range(RECENT_DAYS - 1, -1, -1)]
    return tuple(DayCount(day, counts.get(day, 0)) for day in days)


def test_overview_for_a_caseworker(world: World) -> None:
    story(world)
    view = world.ledger.casework.overview(SARA, 2025)
    assert view.municipality_code == "751" and view.year == 2025
    # Ib (issued 2023, used 2024); Jens, Eva and Anne issued 2025, only Jens used it in 2025.
    assert view.usage == (UsageYear(2023, 1, 0), UsageYear(2024, 1, 1), UsageYear(2025, 4, 1))
    assert view.applications_by_status == (Count("received", 1), Count("approved", 2),
                                           Count("rejected", 1))
    # Decided after 1 h, 6 h and 48 h: median 6 h, mean 55 h / 3.
    assert (view.processing_median_seconds, view.processing_mean_seconds) == (6 * 3600, 66_000)
    # Jens's SMS and Telegram conversations on days 0 and 1; only his SMS on day 2.
    assert view.conversations_per_day == _days({
        dt.date(2025, 6, 16): 2, dt.date(2025, 6, 17): 2, dt.date(2025, 6, 18): 1})
    assert (view.escalations_opened, view.escalations_urgent, view.escalations_taken) == (2, 1, 2)
    assert view.response_median_seconds == 20 * 60
    # "blorp" on Telegram and "Blorp " on SMS count as one; the silent "ok" does not count.
    assert view.fallbacks == (FallbackItem("Blorp", 2, DAY1_NOON),)
    assert view.fallback_total == 2
    assert world.ledger.casework.overview(OLE, 2025) == view


def test_overview_for_an_administrator(world: World) -> None:
    story(world)
    everything = world.ledger.casework.overview(ADA, 2025)
    assert everything.municipality_code is None
    assert everything.usage[-1] == UsageYear(2025, 5, 2)
    assert everything.applications_by_status == (Count("received", 2), Count("approved", 2),
                                                 Count("rejected", 1))
    assert everything.conversations_per_day[-3:] == (
        DayCount(dt.date(2025, 6, 16), 3), DayCount(dt.date(2025, 6, 17), 2),
        DayCount(dt.date(2025, 6, 18), 2))
    assert everything.fallbacks == (FallbackItem("Blorp", 3, DAY1_NOON),)
    copenhagen = world.ledger.casework.overview(ADA, 2025, "101")
    assert copenhagen.usage == (UsageYear(2023, 0, 0), UsageYear(2024, 0, 0),
                                UsageYear(2025, 1, 1))
    assert copenhagen.applications_by_status == (Count("received", 1), Count("approved", 0),
                                                 Count("rejected", 0))
    assert copenhagen.processing_median_seconds is None
    assert copenhagen.conversations_per_day == _days({dt.date(2025, 6, 18): 1})
    assert (copenhagen.escalations_opened, copenhagen.response_median_seconds) == (0, None)
    assert (copenhagen.fallbacks, copenhagen.fallback_total) == ((), 0)
    # An earlier year: its own applications and escalations (none), the usage window moves.
    earlier = world.ledger.casework.overview(ADA, 2024)
    assert earlier.usage == (UsageYear(2022, 0, 0), UsageYear(2023, 1, 0), UsageYear(2024, 1, 1))
    assert sum(c.count for c in earlier.applications_by_status) == 0


def test_only_an_administrator_chooses_the_municipality(world: World) -> None:
    refused("not_allowed_for_role", lambda: world.ledger.casework.overview(KIM, 2025, "751"))
    assert world.ledger.casework.overview(KIM, 2025, "101").municipality_code == "101"
    refused("municipality_not_found", lambda: world.ledger.casework.overview(ADA, 2025, "999"))
