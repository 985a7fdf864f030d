"""The employer's own list and helpers' phone lists, on SQLite and PostgreSQL: who sees
what (an employer learns no name by typing Frikort-IDs; a helper sees their own list only),
consent required and recorded, and a helper signing someone up for a task."""

from __future__ import annotations

from db.commands import Actor
from tests.ledger.casework_support import ADA, KIM, OLE, SARA, unchanged
from tests.ledger.support import world_fixture
from tests.ledger.tasks_support import (
    BENT,
    EMPLOYER,
    GARDEN_PHONE,
    HELLE,
    HOLDER,
    LISE_PHONE,
    TaskWorld,
    make_task_world,
)

CONSENT = "Lise sagde ja på værestedet 16/6"


world = world_fixture(make_task_world)


def test_the_employer_s_own_list_shows_a_first_name_only_after_working_together(
        world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    added = tasks.add_known_person(world.garden, world.lise, EMPLOYER)
    assert (added.card_number, added.first_name) == (world.lise, "")
    assert tasks.add_known_person(world.garden, world.lise, EMPLOYER) == added
    assert len(world.audit("known_person.add")) == 1
    taken = tasks.take_task(world.post().id, world.lise, via="sms", actor=HOLDER)
    assert [p.first_name for p in tasks.known_people(world.garden)] == ["Lise"]
    # The café employs Jens: his first name shows at once.
    assert tasks.add_known_person(world.cvr, world.jens, EMPLOYER).first_name == "Jens"
    assert tasks.known_people(world.cvr)[0].card_number == world.jens
    assert tasks.remove_known_person(world.garden, world.lise, EMPLOYER) is True
    assert tasks.remove_known_person(world.garden, world.lise, EMPLOYER) is False
    assert tasks.known_people(world.garden) == []
    assert tasks.assignment(taken.id).status == "reserved"  # removing ends no assignment
    unchanged(world.base, "card_not_found",
              lambda: tasks.add_known_person(world.garden, "00000", EMPLOYER))


def test_a_helper_keeps_a_phone_list_of_their_own(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    entry = tasks.add_to_phone_list(HELLE, world.lise, f"  {CONSENT} ")
    assert (entry.card_number, entry.holder_name, entry.holder_first_name) == (
        world.lise, "Lise Marie Holm", "Lise")
    assert entry.consent_note == CONSENT and entry.added_by == "helle"
    assert entry.phone_masked == "+45 xx xx xx 55"
    assert tasks.phone_list(HELLE) == [entry]
    assert tasks.phone_list(BENT) == []
    # Adding again records the newer consent, still one entry.
    again = tasks.add_to_phone_list(HELLE, world.lise, "Sagde ja igen 20/6")
    assert again.id == entry.id and tasks.phone_list(HELLE)[0].consent_note == "Sagde ja igen 20/6"
    unchanged(world.base, "phone_list_entry_not_found",
              lambda: tasks.remove_from_phone_list(BENT, entry.id))
    tasks.remove_from_phone_list(HELLE, entry.id)
    assert tasks.phone_list(HELLE) == []
    assert [a["actor"] for a in world.audit("phone_list.add")] == ["console:helle"] * 2


def test_consent_is_required_and_no_cpr_in_it(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    unchanged(world.base, "consent_required",
              lambda: tasks.add_to_phone_list(HELLE, world.lise, " "))
    unchanged(world.base, "cpr_in_text",
              lambda: tasks.add_to_phone_list(HELLE, world.lise, "CPR 0101801234 sagde ja"))


def test_a_helper_adds_only_cards_of_their_municipality(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    unchanged(world.base, "card_not_found",
              lambda: tasks.add_to_phone_list(HELLE, world.mette, CONSENT))
    assert tasks.add_to_phone_list(KIM, world.mette, CONSENT).card_number == world.mette
    assert tasks.add_to_phone_list(ADA, world.lise, CONSENT).card_number == world.lise
    assert tasks.add_to_phone_list(SARA, world.lise, CONSENT).card_number == world.lise


def test_an_employer_consultant_keeps_no_phone_list(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    unchanged(world.base, "not_allowed_for_role",
              lambda: tasks.add_to_phone_list(OLE, world.lise, CONSENT))
    unchanged(world.base, "not_allowed_for_role", lambda: tasks.phone_list(OLE))


def test_a_helper_signs_someone_on_their_list_up_with_consent(world: TaskWorld) -> None:
    tasks = world.ledger.tasks
    task = world.post(places=2)
    helper = Actor(name="console:helle", channel="console")
    unchanged(world.base, "not_on_phone_list", lambda: tasks.take_task(
        task.id, world.lise, via="helper", actor=helper, helper="helle", consent_note=CONSENT))
    tasks.add_to_phone_list(HELLE, world.lise, CONSENT)
    for note in (None, "", "   "):
        unchanged(world.base, "consent_required", lambda note=note: tasks.take_task(
            task.id, world.lise, via="helper", actor=helper, helper="helle", consent_note=note))
    unchanged(world.base, "consent_required", lambda: tasks.take_task(
        task.id, world.lise, via="helper", actor=helper, consent_note=CONSENT))
    unchanged(world.base, "not_on_phone_list", lambda: tasks.take_task(
        task.id, world.lise, via="helper", actor=helper, helper="bent", consent_note=CONSENT))
    before = len(world.outbox())
    taken = tasks.take_task(task.id, world.lise, via="helper", actor=helper, helper="helle",
                            consent_note="Ringede til Lise, hun vil gerne")
    assert (taken.via, taken.helper) == ("helper", "helle")
    [row] = world.rows("task_assignments", id=taken.id)
    assert row["consent_note"] == "Ringede til Lise, hun vil gerne"
    to_employer, to_holder = world.outbox_since(before)
    assert to_employer[0] == GARDEN_PHONE and "Helle" not in to_employer[1]
    assert to_holder[0] == LISE_PHONE
    assert to_holder[1].startswith("Helle fra Værestedet har skrevet dig op til opgaven")
    [audit] = world.audit("task.take")
    assert audit["actor"] == "console:helle" and '"helper": "helle"' in audit["details_json"]
