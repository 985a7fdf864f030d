"""The console's Danish filters and menu (no database needed)."""

from __future__ import annotations

import datetime as dt

from api.console.filters import dato, kommune, kr, masked_cpr, rolle, tid, varighed
from api.console.rendering import nav_for, templates
from staff import StaffPrincipal

CASEWORKER = StaffPrincipal(1, "anna", "Anna", "caseworker", "751")
ADMIN = StaffPrincipal(2, "root", "Root", "admin", None)


def test_amounts_dates_and_times_the_danish_way() -> None:
    assert kr(123450) == "1.234,50 kr." and kr(0) == "0,00 kr." and kr(None) == "–"
    assert dato(dt.date(2026, 3, 5)) == "05.03.2026"
    # 23:30 UTC on 31 December is already New Year's Day in Copenhagen.
    assert dato(dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC)) == "01.01.2026"
    assert tid(dt.datetime(2026, 7, 1, 12, 5, tzinfo=dt.UTC)) == "01.07.2026 kl. 14.05"
    assert tid(dt.datetime(2026, 1, 15, 12, 5, tzinfo=dt.UTC)) == "15.01.2026 kl. 13.05"
    assert tid(None) == dato(None) == "–"


def test_waiting_times() -> None:
    assert varighed(dt.timedelta(seconds=20)) == "under 1 min."
    assert varighed(dt.timedelta(minutes=7)) == "7 min."
    assert varighed(dt.timedelta(hours=3, minutes=5)) == "3 t. 5 min."
    assert varighed(dt.timedelta(days=1, hours=2, minutes=9)) == "1 dag 2 t."
    assert varighed(dt.timedelta(days=4)) == "4 dage"


def test_cpr_roles_and_municipalities() -> None:
    assert masked_cpr("1203854417") == "120385-xxxx"
    assert masked_cpr("120385-xxxx") == "120385-xxxx" and masked_cpr(None) == "–"
    assert rolle("employer_consultant") == "Virksomhedskonsulent"
    assert kommune("751") == "Aarhus (751)" and kommune("101") == "København (101)"
    assert kommune(None) == "–"


def test_filters_are_registered_and_autoescape_is_on() -> None:
    env = templates.env
    assert {"kr", "dato", "tid", "masked_cpr", "varighed", "rolle", "kommune"} <= set(env.filters)
    rendered = env.from_string("{{ name }} {{ amount|kr }}").render(name="<b>", amount=50)
    assert rendered == "&lt;b&gt; 0,50 kr."


def test_the_menu_follows_the_role_and_marks_the_current_page() -> None:
    caseworker = nav_for(CASEWORKER, "/console/cards/48213")
    assert [item.label for item in caseworker] == [
        "Indbakke", "Ansøgninger", "Kort", "Arbejdsgivere", "Beskeder", "Opgaver", "Overblik"]
    assert [item.label for item in caseworker if item.active] == ["Kort"]
    admin = [item.label for item in nav_for(ADMIN, "/console")]
    assert set(caseworker_labels := [i.label for i in caseworker]) < set(admin)
    assert "Loftbeløb" in admin and "Loftbeløb" not in caseworker_labels
    assert not any(item.active for item in nav_for(ADMIN, "/console"))
    assert nav_for(None, "/console") == []
