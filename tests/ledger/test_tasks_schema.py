"""The small-jobs migration on SQLite and PostgreSQL: the role CHECK admits "helper" (and
still refuses made-up roles), the database itself never lets a task hold more people than it
has places, a helper's sign-up without consent is refused by the database too, and the
migration goes down and up again."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

from db.base import Base
from db.migrate import alembic_config, upgrade
from tests.ledger.support import raw_engine
from tests.ledger.tasks_support import HOLDER, make_task_world

BEFORE_TASKS = "3416548e6e63"


def _staff_row(role: str, id_: int) -> dict[str, object]:
    return {"id": id_, "username": f"u-{role}", "display_name": "X", "password_hash": "h",
            "role": role, "municipality_code": "751", "active": True, "session_version": 1,
            "created_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}


def test_the_database_refuses_what_the_service_never_writes(db_url: str) -> None:
    world = make_task_world(db_url)
    try:
        task = world.post()
        world.ledger.tasks.take_task(task.id, world.lise, via="sms", actor=HOLDER)
        tasks = Base.metadata.tables["tasks"]
        assignments = Base.metadata.tables["task_assignments"]
        staff = Base.metadata.tables["staff_users"]
        engine = raw_engine(db_url)
        try:
            with pytest.raises(sa.exc.IntegrityError, match="ck_tasks_places_taken"), \
                    engine.begin() as conn:
                conn.execute(tasks.update().values(places_taken=2).where(tasks.c.id == task.id))
            with pytest.raises(sa.exc.IntegrityError, match="ck_task_assignments_helper_consent"), \
                    engine.begin() as conn:
                conn.execute(assignments.update().values(via="helper", helper="helle"))
            with pytest.raises(sa.exc.IntegrityError, match="ck_staff_users_role"), \
                    engine.begin() as conn:
                conn.execute(staff.insert().values(**_staff_row("volunteer", 100)))
            with engine.begin() as conn:
                conn.execute(staff.insert().values(**_staff_row("helper", 101)))
        finally:
            engine.dispose()
    finally:
        world.ledger.close()


def test_the_migration_goes_down_and_up_again(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    config = alembic_config(empty_db_url)
    command.downgrade(config, BEFORE_TASKS)
    engine = raw_engine(empty_db_url)
    try:
        names = set(sa.inspect(engine).get_table_names())
        assert not names & {"tasks", "task_assignments", "job_digests", "helper_phone_list",
                            "employer_known_people"}
        staff = Base.metadata.tables["staff_users"]
        with pytest.raises(sa.exc.IntegrityError, match="ck_staff_users_role"), \
                engine.begin() as conn:
            conn.execute(staff.insert().values(**_staff_row("helper", 100)))
    finally:
        engine.dispose()
    upgrade(empty_db_url)
    engine = raw_engine(empty_db_url)
    try:
        assert {"tasks", "task_assignments"} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
