"""The team's store: accounts, proposals, review and the log, on the GeoPackage and on PostGIS."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from geo.cli import cli
from geo.errors import RecordValidationError
from geo.store import open_store
from geo.team import (
    LOGIN_REFUSED,
    FormError,
    LoginRefusedError,
    NotAllowedError,
    TeamError,
    accept,
    activity,
    add_user,
    check_password,
    disable_user,
    find_user,
    list_users,
    proposal,
    proposals,
    propose,
    reject,
)
from tests.common import run_gdal_validator

PASSWORD = "correct horse battery"

#: A status record that closes Quanhe–Wonjong in November 2026 (the seed has it open before).
CLOSING = {
    "crossing_id": "quanhe-wonjong",
    "date": "2026-11-20",
    "kind": "status",
    "status": "closed",
    "summary": "Customs closed for inspection",
    "source_url": "https://example.org/quanhe-closed",
    "source_type": "ground_observation",
    "source_quote": "The customs post was closed.",
}


def team_of(store: str) -> None:
    with open_store(store, writable=True) as opened:
        for name, role in (
            ("rita", "reader"),
            ("cora", "contributor"),
            ("rev", "reviewer"),
            ("ada", "admin"),
        ):
            add_user(opened, name, role, PASSWORD, actor="console:test")


def team_rows(store: str) -> dict[str, list]:
    """Every row of the team's tables and the observations' ids: to compare before and after."""
    with open_store(store) as opened:
        return {
            table: sorted(map(tuple, opened._query(f"SELECT * FROM {table}", {})))
            for table in ("team_users", "team_proposals", "team_activity")
        } | {"observations": sorted(o.id for o in opened.observations())}


@pytest.fixture
def team(any_store: str) -> str:
    team_of(any_store)
    return any_store


def test_a_server_finds_the_team_tables_of_a_database_once(database: str):
    """An account read at every signed-in request does not ask the catalog each time."""
    with open_store(database) as opened:
        assert find_user(opened, "rita") is None  # a store never served: no tables, no account
    team_of(database)
    looked = []
    for _ in range(3):
        asked: list[str] = []
        with open_store(database) as opened:
            real_query = opened._query
            opened._query = lambda sql, p, q=real_query, a=asked: a.append(sql) or q(sql, p)  # type: ignore[method-assign]
            found = find_user(opened, "rita")
            assert found is not None and found.role == "reader"
        looked.append(any("information_schema" in sql for sql in asked))
    assert looked == [True, False, False]


def test_a_proposal_waits_then_joins_the_records_when_accepted(team: str):
    with open_store(team, writable=True) as opened:
        made = propose(opened, {**CLOSING, "recorded_by": "someone-else"}, user="cora")
        assert made.state == "proposed" and made.proposed_by == "cora"
        # Not a record yet: it drives no status.
        assert opened.observation(made.record_id) is None
        assert [p.id for p in proposals(opened)] == [made.id]
        record = accept(opened, made.id, reviewer="rev")
        assert record.id == made.record_id and record.recorded_by == "cora"
        assert opened.observation(record.id) is not None
        assert proposal(opened, made.id).state == "accepted"
        assert proposals(opened) == []
        log = activity(opened, record_id=record.id)
        assert [(e.actor, e.action) for e in log] == [
            ("rev", "proposal accepted"),
            ("cora", "record proposed"),
        ]
        assert "→ closed" in log[0].detail
        assert [e.action for e in activity(opened, crossing_id="quanhe-wonjong")][:2] == [
            "proposal accepted",
            "record proposed",
        ]


def test_a_rejected_proposal_is_kept_with_its_reason_and_never_joins(team: str):
    with open_store(team, writable=True) as opened:
        made = propose(opened, CLOSING, user="cora")
        with pytest.raises(RecordValidationError, match="reason"):
            reject(opened, made.id, "  ", reviewer="rev")
        rejected = reject(opened, made.id, "The source <b>says</b> it reopened", reviewer="rev")
        assert rejected.state == "rejected" and rejected.reason.startswith("The source <b>")
        assert opened.observation(made.record_id) is None
        with pytest.raises(TeamError, match="rejected by rev already"):
            accept(opened, made.id, reviewer="ada")


def test_a_correction_is_a_new_record_that_replaces_the_old(team: str):
    with open_store(team, writable=True) as opened:
        first = accept(opened, propose(opened, CLOSING, user="cora").id, reviewer="rev")
        fixed = {**CLOSING, "summary": "Customs closed for two days", "replaces": first.id}
        made = propose(opened, fixed, user="cora")
        assert activity(opened, record_id=made.record_id)[0].action == "correction proposed"
        second = accept(opened, made.id, reviewer="rev")
        assert second.replaces == first.id
        assert opened.observation(first.id) is not None  # kept, in the history


def test_roles_are_enforced_by_the_library(team: str):
    with open_store(team, writable=True) as opened:
        before = team_rows(team)
        with pytest.raises(NotAllowedError, match="only a contributor or above"):
            propose(opened, CLOSING, user="rita")
        with pytest.raises(NotAllowedError, match="not an active account"):
            propose(opened, CLOSING, user="nobody")
        assert team_rows(team) == before
        made = propose(opened, CLOSING, user="cora")
        for who in ("rita", "cora", "nobody", "console:test"):
            with pytest.raises(NotAllowedError):
                accept(opened, made.id, reviewer=who)
        with pytest.raises(NotAllowedError, match="only a admin or above"):
            add_user(opened, "eve", "admin", PASSWORD, actor="rev")
        disable_user(opened, "rev", actor="ada")
        with pytest.raises(NotAllowedError, match="not an active account"):
            accept(opened, made.id, reviewer="rev")
        assert proposal(opened, made.id).state == "proposed"


def test_nobody_reviews_their_own_proposal(team: str):
    with open_store(team, writable=True) as opened:
        made = propose(opened, CLOSING, user="rev")
        with pytest.raises(NotAllowedError, match="reviewed by someone else"):
            accept(opened, made.id, reviewer="rev")
        assert accept(opened, made.id, reviewer="ada").id == made.record_id


def test_every_bad_field_is_named_and_nothing_is_written(team: str):
    bad = {
        "crossing_id": "quanhe-wonjong",
        "date": "2025-13",
        "kind": "status",
        "status": "opne",
        "summary": "",
        "source_type": "news",
        "at": "1, 2",
        "until": "soon",
    }
    before = team_rows(team)
    with open_store(team, writable=True) as opened, pytest.raises(FormError) as refused:
        propose(opened, bad, user="cora")
    errors = refused.value.errors
    assert set(errors) >= {"date", "status", "summary", "source_url", "source_type", "until"}
    assert "has no month 13" in errors["date"]
    assert errors["status"].startswith("'opne' is not a known value")
    assert "“" in errors["source_url"] and "--" not in errors["source_url"]
    assert team_rows(team) == before


def test_a_duplicate_is_refused_at_once(team: str):
    with open_store(team, writable=True) as opened:
        propose(opened, CLOSING, user="cora")
        with pytest.raises(FormError, match="waiting for review"):
            propose(opened, CLOSING, user="cora")


def test_twenty_wrong_passwords_lock_the_account_even_against_the_right_one(team: str):
    with open_store(team, writable=True) as opened:
        for _ in range(20):
            with pytest.raises(LoginRefusedError) as refused:
                check_password(opened, "cora", "wrong password", client="203.0.113.9")
            assert str(refused.value) == LOGIN_REFUSED
        with pytest.raises(LoginRefusedError):  # from another address: the name is locked
            check_password(opened, "cora", PASSWORD, client="198.51.100.1")
        with pytest.raises(LoginRefusedError):  # the address is locked, for every name
            check_password(opened, "rev", PASSWORD, client="203.0.113.9")
        # An unknown name is told the same, and counted the same.
        with pytest.raises(LoginRefusedError) as unknown:
            check_password(opened, "nobody", PASSWORD, client="198.51.100.2")
        assert str(unknown.value) == LOGIN_REFUSED
        assert check_password(opened, "rev", PASSWORD, client="198.51.100.3").name == "rev"


def test_a_disabled_account_cannot_sign_in(team: str):
    with open_store(team, writable=True) as opened:
        disable_user(opened, "cora", actor="console:test")
        with pytest.raises(LoginRefusedError):
            check_password(opened, "cora", PASSWORD, client="198.51.100.3")


def test_the_activity_log_is_append_only(team: str):
    with open_store(team, writable=True) as opened:
        with pytest.raises(Exception, match="append-only"), opened.transaction():
            opened._execute("DELETE FROM team_activity", {})
        assert activity(opened)


def test_the_geopackage_with_team_tables_passes_gdals_validator(store):
    team_of(str(store))
    with open_store(store, writable=True) as opened:
        made = propose(opened, CLOSING, user="cora")
        accept(opened, made.id, reviewer="rev")
    done = run_gdal_validator(store)
    assert done.returncode == 0, done.stdout + done.stderr


def test_users_commands_ask_twice_and_never_print_the_password(any_store: str):
    runner = CliRunner()
    added = runner.invoke(
        cli,
        ["users", "add", "jkim", "--role", "contributor", "--store", any_store],
        input="s3cret-horse-battery\ns3cret-horse-battery\n",
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout) == {"name": "jkim", "role": "contributor"}
    assert "s3cret" not in added.output
    mismatch = runner.invoke(
        cli,
        ["users", "add", "kim2", "--role", "reader", "--store", any_store],
        input="one-password-here\nanother-password\n",
    )
    assert mismatch.exit_code != 0
    short = runner.invoke(
        cli,
        ["users", "add", "kim3", "--role", "reader", "--store", any_store],
        input="short\nshort\n",
    )
    assert short.exit_code == 1 and "password: '(5 characters)' is too short" in short.output
    listed = runner.invoke(cli, ["users", "list", "--store", any_store, "--format", "json"])
    assert [(u["name"], u["disabled"]) for u in json.loads(listed.stdout)] == [("jkim", False)]
    disabled = runner.invoke(cli, ["users", "disable", "jkim", "--store", any_store])
    assert disabled.exit_code == 0
    unknown = runner.invoke(cli, ["users", "disable", "nobody", "--store", any_store])
    assert unknown.exit_code == 1 and "is not an account" in unknown.output
    assert "Traceback" not in unknown.output
    with open_store(any_store) as opened:
        assert [u.disabled for u in list_users(opened)] == [True]
        assert [e.action for e in activity(opened)] == ["account disabled", "account added"]


def test_serve_needs_a_shared_secret_for_a_database(database: str, monkeypatch):
    monkeypatch.delenv("CROSSINGS_SECRET", raising=False)
    refused = CliRunner().invoke(cli, ["serve", "--store", database])
    assert refused.exit_code == 1
    assert "Fix: pass --secret-file PATH (made if absent) or set CROSSINGS_SECRET" in (
        refused.output
    )


def test_without_the_web_extra_one_line_says_how_to_install_it(store, monkeypatch):
    import sys

    for module in ("geo.team", "geo.web.app", "argon2", "starlette"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.setitem(sys.modules, "argon2", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "starlette", None)
    for args in (["users", "list"], ["serve"]):
        refused = CliRunner().invoke(cli, [*args, "--store", str(store)])
        assert refused.exit_code == 1 and "Traceback" not in refused.output
        assert refused.output.endswith("Fix: pip install 'crossings[web]'\n")
