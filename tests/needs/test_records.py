"""Need records: no personal field, extra fields refused by name, each welfare point's records
its own, planners kept to aggregates, every read audited, deletion and retention."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from ambrogio.cli import main
from ambrogio.db.models import AuditEvent, Need
from ambrogio.ids import to_global_id
from ambrogio.needs import analysis, records
from tests.support.accounts import login
from tests.support.import_db import ImportDb
from tests.support.needs import LECCO, VALMADRERA, Desk, count_needs, desk, need_row

NEED_FIELDS = """
  id version category { slug } comune { istatCode } ageBand household employment urgency
  recordedOn outcome referredService { id } welfarePoint { id }
"""
CREATE = f"""
mutation ($input: NeedInput!, $point: ID) {{
  createNeed(input: $input, welfarePointId: $point) {{ {NEED_FIELDS} }}
}}"""
READ = f"query ($id: ID!) {{ need(id: $id) {{ {NEED_FIELDS} }} }}"
LIST = f"query {{ needs(first: 50) {{ totalCount nodes {{ {NEED_FIELDS} }} }} }}"
UPDATE = f"""
mutation ($id: ID!, $version: Int!, $input: NeedInput!) {{
  updateNeed(id: $id, version: $version, input: $input) {{ {NEED_FIELDS} }}
}}"""
DELETE = "mutation ($id: ID!) { deleteNeed(id: $id) }"
FIELDS_OF = (
    "query ($name: String!) { __type(name: $name) { inputFields { name } fields { name } } }"
)
GAPS = "{ needsGaps { k cells { needs } } }"
# What a record of a person would hold; none of it may be a field of a need.
PERSONAL = {
    "name",
    "surname",
    "firstName",
    "lastName",
    "fullName",
    "phone",
    "email",
    "address",
    "street",
    "dateOfBirth",
    "birthDate",
    "birthday",
    "taxCode",
    "codiceFiscale",
    "notes",
    "note",
    "description",
    "text",
    "comment",
    "lat",
    "lon",
    "contact",
}


def a_need(**changes: Any) -> dict[str, Any]:
    today = analysis.today_in_rome(datetime.now(UTC))
    return {
        "category": "badanti",  # a synonym of badante
        "comune": LECCO,
        "urgency": "HIGH",
        "recordedOn": (today - timedelta(days=3)).isoformat(),
        "outcome": "WAITING",
        "ageBand": "FROM_50_TO_64",
        "household": "SINGLE_PARENT",
        "employment": "UNEMPLOYED",
        **changes,
    }


@pytest.fixture(scope="module")
async def desks(needs_db: ImportDb) -> tuple[Desk, Desk]:
    a = await desk(needs_db.sessionmaker, needs_db.settings, "a", LECCO)
    b = await desk(needs_db.sessionmaker, needs_db.settings, "b", VALMADRERA)
    return a, b


async def test_a_need_has_no_personal_field(needs_db: ImportDb) -> None:
    for name, key in (("NeedInput", "inputFields"), ("Need", "fields")):
        result = await needs_db.gql(FIELDS_OF, name=name)
        fields = {field["name"] for field in result.data["__type"][key]}
        assert "category" in fields  # guard: the type was read
        assert fields & PERSONAL == set()
    # the table neither
    assert {column.name for column in Need.__table__.columns} & {
        "name",
        "phone",
        "email",
        "address",
        "birth_date",
        "notes",
        "tax_code",
    } == set()


@pytest.mark.parametrize("extra", ["name", "phone", "dateOfBirth", "notes"])
async def test_an_input_with_an_extra_field_is_refused_naming_it(
    needs_db: ImportDb, desks: tuple[Desk, Desk], extra: str
) -> None:
    before = await count_needs(needs_db.sessionmaker)
    result = await needs_db.gql(CREATE, desks[0].operator, input=a_need(**{extra: "Mario Rossi"}))
    assert result.codes == ["BAD_USER_INPUT"]
    assert f"'{extra}'" in result.errors[0]["message"]
    assert result.errors[0]["extensions"]["field"] == extra
    assert await count_needs(needs_db.sessionmaker) == before


async def test_an_extra_field_in_the_document_is_refused_too(
    needs_db: ImportDb, desks: tuple[Desk, Desk]
) -> None:
    document = """mutation { createNeed(input: {category: "badante", comune: "097042",
      urgency: LOW, recordedOn: "2026-01-05", outcome: DECLINED, email: "a@b.it"}) { id } }"""
    result = await needs_db.gql(document, desks[0].operator)
    assert result.codes == ["BAD_USER_INPUT"] and "'email'" in result.errors[0]["message"]
    assert result.errors[0]["extensions"]["field"] == "email"


async def test_bad_values_are_refused_field_by_field(
    needs_db: ImportDb, desks: tuple[Desk, Desk]
) -> None:
    future = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    result = await needs_db.gql(
        CREATE,
        desks[0].operator,
        input=a_need(category="astronautica", comune="999999", recordedOn=future),
    )
    fields = sorted(error["extensions"]["field"] for error in result.errors)
    assert fields == ["input.category", "input.comune", "input.recordedOn"]
    assert set(result.codes) == {"BAD_USER_INPUT"}


async def test_an_operator_reads_and_edits_only_their_points_records(
    needs_db: ImportDb, desks: tuple[Desk, Desk]
) -> None:
    a, b = desks
    created = await needs_db.gql(CREATE, a.operator, input=a_need())
    assert not created.errors, created.errors
    need = created.data["createNeed"]
    assert need["category"]["slug"] == "badante"
    assert need["welfarePoint"]["id"] == to_global_id("WelfarePoint", a.id)
    # A reads it; B does not see it, cannot read, change or delete it
    assert (await needs_db.gql(READ, a.operator, id=need["id"])).data["need"]["id"] == need["id"]
    assert (await needs_db.gql(READ, b.operator, id=need["id"])).codes == ["NOT_FOUND"]
    listed = (await needs_db.gql(LIST, b.operator)).data["needs"]["nodes"]
    assert need["id"] not in {row["id"] for row in listed}
    assert need["id"] in {
        row["id"] for row in (await needs_db.gql(LIST, a.operator)).data["needs"]["nodes"]
    }
    changed = await needs_db.gql(UPDATE, b.operator, id=need["id"], version=1, input=a_need())
    assert changed.codes == ["NOT_FOUND"]
    assert (await needs_db.gql(DELETE, b.operator, id=need["id"])).codes == ["NOT_FOUND"]
    # B cannot write into A's point either
    into_a = await needs_db.gql(
        CREATE, b.operator, input=a_need(), point=to_global_id("WelfarePoint", a.id)
    )
    assert into_a.codes == ["NOT_FOUND"]
    # A edits it, with its version
    updated = await needs_db.gql(
        UPDATE, a.operator, id=need["id"], version=1, input=a_need(outcome="DECLINED")
    )
    assert updated.data["updateNeed"]["outcome"] == "DECLINED"
    assert updated.data["updateNeed"]["version"] == 2
    stale = await needs_db.gql(UPDATE, a.operator, id=need["id"], version=1, input=a_need())
    assert stale.codes == ["CONFLICT"]


@pytest.mark.parametrize("role", ["planner", "reviewer"])
async def test_planners_and_reviewers_read_no_record_but_the_aggregates(
    needs_db: ImportDb, desks: tuple[Desk, Desk], role: str
) -> None:
    created = await needs_db.gql(CREATE, desks[0].operator, input=a_need())
    need_id = created.data["createNeed"]["id"]
    caller = await needs_db.login(f"{role}-records", role)
    assert (await needs_db.gql(READ, caller, id=need_id)).codes == ["FORBIDDEN"]
    assert (await needs_db.gql(LIST, caller)).codes == ["FORBIDDEN"]
    assert (await needs_db.gql(CREATE, caller, input=a_need())).codes == ["FORBIDDEN"]
    assert (await needs_db.gql(DELETE, caller, id=need_id)).codes == ["FORBIDDEN"]
    gaps = await needs_db.gql(GAPS, caller)
    assert not gaps.errors and gaps.data["needsGaps"]["k"] == needs_db.settings.needs_k


async def test_anonymous_callers_read_nothing(needs_db: ImportDb, desks: tuple[Desk, Desk]) -> None:
    assert (await needs_db.gql(LIST)).codes == ["UNAUTHENTICATED"]
    assert (await needs_db.gql(GAPS)).codes == ["UNAUTHENTICATED"]
    key_less_mapper = await login(needs_db.sessionmaker, needs_db.settings, "nomad", "mapper")
    assert (await needs_db.gql(LIST, key_less_mapper)).codes == ["FORBIDDEN"]


async def test_admins_read_every_point_and_every_read_is_audited(
    needs_db: ImportDb, desks: tuple[Desk, Desk]
) -> None:
    created = await needs_db.gql(CREATE, desks[1].operator, input=a_need(comune=VALMADRERA))
    need_id = created.data["createNeed"]["id"]
    admin = await needs_db.login("admin-needs", "admin")
    assert (await needs_db.gql(READ, admin, id=need_id)).data["need"]["id"] == need_id
    listed = (await needs_db.gql(LIST, admin)).data["needs"]["nodes"]
    async with needs_db.sessionmaker() as session:
        reads = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "read", AuditEvent.actor == "admin-needs"
                )
            )
        ).all()
    read_ids = [event.entity_id for event in reads]
    assert len(listed) > 1
    assert len(read_ids) == 1 + len(listed)
    assert {to_global_id("Need", key) for key in read_ids} == {row["id"] for row in listed} | {
        need_id
    }
    assert all(event.entity_type == "need" and event.request_id for event in reads)


async def test_a_record_is_deleted_on_request_and_the_deletion_audited(
    needs_db: ImportDb, desks: tuple[Desk, Desk]
) -> None:
    a = desks[0]
    need_id = (await needs_db.gql(CREATE, a.operator, input=a_need())).data["createNeed"]["id"]
    assert (await needs_db.gql(DELETE, a.operator, id=need_id)).data["deleteNeed"] == need_id
    assert (await needs_db.gql(READ, a.operator, id=need_id)).codes == ["NOT_FOUND"]
    assert (await needs_db.gql(DELETE, a.operator, id=need_id)).codes == ["NOT_FOUND"]
    async with needs_db.sessionmaker() as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity_type == "need")
                .order_by(AuditEvent.id)
            )
        ).all()
    assert "delete" in actions and "create" in actions


async def test_records_older_than_the_retention_are_refused_and_purged(
    needs_db: ImportDb,
    desks: tuple[Desk, Desk],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    today = analysis.today_in_rome(datetime.now(UTC))
    earliest = records.retention_start(today, needs_db.settings.needs_retention_months)
    too_old = (earliest - timedelta(days=1)).isoformat()
    refused = await needs_db.gql(CREATE, desks[0].operator, input=a_need(recordedOn=too_old))
    assert refused.codes == ["BAD_USER_INPUT"] and "retention" in refused.errors[0]["message"]
    # given an old record written before the retention was shortened
    old = need_row(desks[0].id, LECCO, "badante", earliest - timedelta(days=40))
    kept = need_row(desks[0].id, LECCO, "badante", today - timedelta(days=2))
    async with needs_db.sessionmaker() as session, session.begin():
        session.add_all([Need(**old), Need(**kept)])
    # when the purge runs (as the command line runs it)
    monkeypatch.setenv("DATABASE_URL", needs_db.settings.database_url or "")
    assert await asyncio.to_thread(main, ["needs", "purge"]) == 0
    assert capsys.readouterr().out.startswith(f"1 needs recorded before {earliest}")
    async with needs_db.sessionmaker() as session:
        assert await session.get(Need, old["id"]) is None
        assert await session.get(Need, kept["id"]) is not None


async def test_a_referral_names_a_published_service_and_goes_with_referred(
    needs_db: ImportDb, desks: tuple[Desk, Desk]
) -> None:
    nowhere = to_global_id("Service", uuid.uuid4())
    unknown = await needs_db.gql(
        CREATE, desks[0].operator, input=a_need(outcome="REFERRED", referredServiceId=nowhere)
    )
    assert unknown.codes == ["BAD_USER_INPUT"]
    assert unknown.errors[0]["extensions"]["field"] == "input.referredServiceId"
    waiting = await needs_db.gql(
        CREATE, desks[0].operator, input=a_need(outcome="WAITING", referredServiceId=nowhere)
    )
    assert waiting.codes == ["BAD_USER_INPUT"]
    assert "referred" in waiting.errors[0]["message"]
