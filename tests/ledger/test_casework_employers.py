"""Employers through `ledger.casework`, on SQLite and PostgreSQL: list and search, one
employer with only the user's own card holders, verification with the checker in the audit."""

from __future__ import annotations

import json

from ledger import RegisterEmployer
from tests.ledger.casework_support import ADA, KIM, OLE, SARA, World, make_world, refused, unchanged
from tests.ledger.support import ADMIN, valid_cvr, wage, world_fixture

world = world_fixture(make_world)


def _green_hand(world: World) -> str:
    cvr = valid_cvr(29)
    world.ledger.register_employer(RegisterEmployer(cvr=cvr, name="Havefirmaet Grøn Hånd",
                                                    phone="+4540506070"), actor=ADMIN)
    return cvr


def test_list_puts_unverified_first_and_searches(world: World) -> None:
    green = _green_hand(world)
    listed = world.ledger.casework.employers(SARA)
    assert [(e.cvr, e.verified, e.employments) for e in listed] == [
        (green, False, 0), (world.cvr, True, 1)]
    assert [e.cvr for e in world.ledger.casework.employers(SARA, "GRØN")] == [green]
    assert [e.cvr for e in world.ledger.casework.employers(SARA, "lone berg")] == [world.cvr]
    assert [e.cvr for e in world.ledger.casework.employers(OLE, world.cvr[:4])] == [world.cvr]
    assert world.ledger.casework.employers(SARA, "ingen her") == []
    # Employments are counted for the user's own card holders only.
    assert [e.employments for e in world.ledger.casework.employers(ADA, "café")] == [2]


def test_detail_shows_only_the_users_own_card_holders(world: World) -> None:
    world.ledger.report_wage(wage(world.cvr, world.jens, 200_00, "j", post=True), actor=ADMIN)
    world.ledger.report_wage(wage(world.cvr, world.mette, 300_00, "m", post=True), actor=ADMIN)
    detail = world.ledger.casework.employer(SARA, world.cvr)
    assert (detail.name, detail.contact_person, detail.verified) == (
        "Café Solsikken ApS", "Lone Berg", True)
    assert [(c.kind, c.masked) for c in detail.contacts] == [("phone", "+45 xx xx xx 64")]
    assert [(e.card_number, e.holder_name) for e in detail.employments] == [
        (world.jens, "Jens Hansen")]
    assert [(r.card_number, r.amount_ore, r.status) for r in detail.reports] == [
        (world.jens, 200_00, "posted")]
    assert [r.card_number for r in world.ledger.casework.employer(KIM, world.cvr).reports] == [
        world.mette]
    assert len(world.ledger.casework.employer(ADA, world.cvr).employments) == 2
    refused("employer_not_found", lambda: world.ledger.casework.employer(SARA, valid_cvr(77)))
    refused("invalid_cvr", lambda: world.ledger.casework.employer(SARA, "123"))


def test_a_consultant_verifies_with_a_note(world: World) -> None:
    green = _green_hand(world)
    unchanged(world, "cpr_in_text", lambda: world.ledger.casework.verify_employer(
        OLE, green, "tjekket, ejer har cpr 0101901234"))
    result = world.ledger.casework.verify_employer(OLE, green, "CVR tjekket på virk.dk")
    assert result.verified
    assert world.ledger.casework.employer(OLE, green).verified_at is not None
    [verified] = world.rows("audit_log", action="employer.verify", entity_id=green)
    [checked] = world.audit("employer.checked")
    assert verified["actor"] == checked["actor"] == "console:ole"
    assert json.loads(checked["details_json"]) == {"note": "CVR tjekket på virk.dk"}
    # Verifying again changes nothing but records who checked it again.
    world.ledger.casework.verify_employer(SARA, green)
    assert len(world.rows("audit_log", action="employer.verify", entity_id=green)) == 1
    assert [r["actor"] for r in world.audit("employer.checked")] == ["console:ole", "console:sara"]
