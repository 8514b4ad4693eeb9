"""A team's store: accounts and roles, proposed records and their review, and who did what.

Three tables beside the layers, in the same store and on both backends, created
on first use: ``team_users`` (a name, a role and an Argon2 hash of a password),
``team_proposals`` (a record proposed from a form, waiting for a reviewer, then
accepted or rejected with a reason), ``team_logins`` (failed sign-ins, counted
in the store so that several server processes share the count) and
``team_activity``, a log that is only ever appended to. In a GeoPackage they
are attribute tables registered in ``gpkg_contents``, so GIS tools list them.

Roles are checked here, not only by the web pages: a reader cannot propose, a
contributor cannot review, and an action is always recorded under the name of
whoever does it. A proposal is never an observation: it drives no status and
no export until a reviewer accepts it, and then it joins the observations the
way ``crossings observe`` adds one, in the transaction that records the review.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from geo.errors import GeoError, RecordValidationError, shown
from geo.fields import (
    check_url,
    clean_text,
    parse_choice,
    parse_fuzzy_date,
    parse_lat_lon,
    resolve_crossing_id,
    split_lat_lon,
)
from geo.inventory import refresh_status_snapshot, status_on, today_or
from geo.model import OBSERVATION_KINDS, SOURCE_TYPES, Observation
from geo.schema import CARRIED_FIELDS
from geo.status import can_change_status
from geo.store.gpkg import is_geopackage
from geo.validate import parse_observation

if TYPE_CHECKING:
    from geo.store import Store

__all__ = [
    "FORM_FIELDS",
    "LOCK_AFTER",
    "LOCK_MINUTES",
    "LOGIN_REFUSED",
    "ROLES",
    "Activity",
    "FormError",
    "LoginRefusedError",
    "NotAllowedError",
    "Proposal",
    "TeamError",
    "User",
    "accept",
    "activity",
    "add_user",
    "check_password",
    "disable_user",
    "end_sessions",
    "ensure_team_tables",
    "find_user",
    "has_role",
    "list_users",
    "proposal",
    "proposals",
    "propose",
    "reject",
    "session_begun",
    "sessions_ended_at",
]

#: The roles, each allowed what the ones before it are.
ROLES = ("reader", "contributor", "reviewer", "admin")
#: A proposal's states: waiting, then accepted or rejected.
STATES = ("proposed", "accepted", "rejected")
#: Failed sign-ins in a row, for one name or from one address, after which both are refused.
LOCK_AFTER = 5
#: How long they are refused for.
LOCK_MINUTES = 15
#: What every refused sign-in is told: never whether the name exists.
LOGIN_REFUSED = (
    "The name or the password is wrong, or there were too many attempts. "
    f"After {LOCK_AFTER} failed attempts in a row, signing in is refused for "
    f"{LOCK_MINUTES} minutes."
)
#: A prefix for who acts from the command line (an account name never holds a colon).
CONSOLE = "console:"

#: The fields of a proposal: those of ``crossings observe`` (``at`` is LAT,LON), and the
#: texts a record carries as given, declared once in geo.schema.
FORM_FIELDS = (
    "crossing_id",
    "date",
    "kind",
    "status",
    "traffic",
    "applies_to",
    "until",
    "expected",
    "structure_id",
    "lifecycle",
    "summary",
    "source_url",
    "source_type",
    "source_name",
    "source_detail",
    "source_is_mirror",
    "source_published",
    "side",
    "at",
    "replaces",
    *(f.name for f in CARRIED_FIELDS),
    "notes",
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PASSWORD_MIN = 10
_PASSWORD_MAX = 1024
_REASON_MAX = 2000
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Return a hash to check when a name is unknown (a wrong name costs as a wrong password)."""
    return _HASHER.hash(secrets.token_urlsafe(16))


class TeamError(GeoError):
    """An account, proposal or review that cannot be done, and why."""


class NotAllowedError(TeamError, PermissionError):
    """The one acting may not do this: no account, an account disabled, or a role too low."""


class LoginRefusedError(TeamError):
    """A sign-in refused: a wrong name or password, or too many attempts (one message)."""

    def __init__(self) -> None:
        super().__init__(LOGIN_REFUSED)


class UnknownProposalError(TeamError, LookupError):
    """No proposal has that id."""


class UnknownUserError(TeamError, LookupError):
    """No account has that name."""


class FormError(GeoError, ValueError):
    """A proposal's fields are not acceptable: each bad field with what is wrong, in words."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {text}" for field, text in self.errors.items()))


@dataclass(frozen=True)
class User:
    """An account: its name, role, whether it is disabled, and who made it when."""

    name: str
    role: str
    disabled: bool
    created_at: str
    created_by: str


@dataclass(frozen=True)
class Proposal:
    """A record proposed from a form, and where its review stands."""

    id: str
    record_id: str
    crossing_id: str | None
    fields: dict[str, str]
    state: str
    proposed_by: str
    proposed_at: str
    reviewed_by: str | None
    reviewed_at: str | None
    reason: str | None


@dataclass(frozen=True)
class Activity:
    """One line of the log: who did what, when, to which record or crossing."""

    at: str
    actor: str
    action: str
    crossing_id: str | None
    record_id: str | None
    proposal_id: str | None
    detail: str


# -- the tables --------------------------------------------------------------------------

_TABLES = {
    "team_users": (
        "Accounts of the web application: name, role and an Argon2 hash of the password",
        (
            "name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, password_hash TEXT NOT NULL, "
            "disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, "
            "created_by TEXT NOT NULL"
        ),
    ),
    "team_logins": (
        "Failed sign-ins in a row, by account name and by address, shared by every server",
        (
            "key TEXT NOT NULL UNIQUE, failures INTEGER NOT NULL, last_failure TEXT NOT NULL, "
            "locked_until TEXT"
        ),
    ),
    "team_proposals": (
        "Records proposed from the web form: waiting for review, accepted or rejected",
        (
            "id TEXT NOT NULL UNIQUE, record_id TEXT NOT NULL, crossing_id TEXT, "
            "fields TEXT NOT NULL, state TEXT NOT NULL, proposed_by TEXT NOT NULL, "
            "proposed_at TEXT NOT NULL, reviewed_by TEXT, reviewed_at TEXT, reason TEXT"
        ),
    ),
    "team_sessions": (
        "Sign-outs: a session begun before its account's last sign-out is over",
        "name TEXT NOT NULL UNIQUE, ended_at TEXT NOT NULL",
    ),
    "team_activity": (
        "Who did what and when: proposals, reviews, corrections, accounts (append-only)",
        (
            "at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, crossing_id TEXT, "
            "record_id TEXT, proposal_id TEXT, detail TEXT NOT NULL"
        ),
    ),
}

_INDEXES = (
    "CREATE INDEX IF NOT EXISTS team_proposals_state ON team_proposals (state, proposed_at)",
    "CREATE INDEX IF NOT EXISTS team_activity_crossing ON team_activity (crossing_id)",
    "CREATE INDEX IF NOT EXISTS team_activity_record ON team_activity (record_id)",
)

_SQLITE_KEPT = (
    (
        "CREATE TRIGGER IF NOT EXISTS team_activity_no_update BEFORE UPDATE ON team_activity "
        "BEGIN SELECT RAISE(ABORT, 'the activity log is append-only'); END"
    ),
    (
        "CREATE TRIGGER IF NOT EXISTS team_activity_no_delete BEFORE DELETE ON team_activity "
        "BEGIN SELECT RAISE(ABORT, 'the activity log is append-only'); END"
    ),
)

_POSTGRES_KEPT = (
    (
        "CREATE OR REPLACE FUNCTION team_activity_kept() RETURNS trigger LANGUAGE plpgsql AS "
        "$body$ BEGIN RAISE EXCEPTION 'the activity log is append-only'; END $body$"
    ),
    (
        "CREATE OR REPLACE TRIGGER team_activity_kept BEFORE UPDATE OR DELETE ON team_activity "
        "FOR EACH ROW EXECUTE FUNCTION team_activity_kept()"
    ),
)

_REGISTER = (
    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
    "SELECT :name, 'attributes', :name, :description, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
    "WHERE NOT EXISTS (SELECT 1 FROM gpkg_contents WHERE table_name = :name)"
)

#: The stores (open objects) whose team tables are known to exist.
_READY: weakref.WeakSet[Store] = weakref.WeakSet()


#: The databases (by address) in which this process has found the team's tables. A server reads
#: an account at every signed-in request, and a database's catalog is a round trip away; the
#: tool never drops these tables (one dropped by another program is then a fault, named).
_FOUND_IN: set[str] = set()


def _has_tables(store: Store) -> bool:
    names = ", ".join(f"'{name}'" for name in _TABLES)
    if is_geopackage(store):
        sql = f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({names})"
        return int(store._query(sql, {})[0][0]) == len(_TABLES)
    address = str(getattr(store, "url", ""))
    if address in _FOUND_IN:
        return True
    sql = (
        "SELECT count(*) FROM information_schema.tables WHERE "
        f"table_schema = current_schema() AND table_name IN ({names})"
    )
    found = int(store._query(sql, {})[0][0]) == len(_TABLES)
    if found and address and not getattr(store, "_depth", 0):  # committed: not in a transaction
        _FOUND_IN.add(address)
    return found


def ensure_team_tables(store: Store) -> None:
    """Create the team's tables where the store lacks them (the store must be writable).

    ``CREATE ... IF NOT EXISTS``, in one transaction: two servers starting at
    once create them once. In a GeoPackage each is registered in
    ``gpkg_contents`` as an attributes table.
    """
    if store in _READY:
        return
    if not _has_tables(store):
        key = (
            "INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"
            if is_geopackage(store)
            else "BIGSERIAL PRIMARY KEY"
        )
        with store.transaction():
            for name, (description, columns) in _TABLES.items():
                store._execute(f"CREATE TABLE IF NOT EXISTS {name} (fid {key}, {columns})", {})
                if is_geopackage(store):
                    store._execute(_REGISTER, {"name": name, "description": description})
            kept = _SQLITE_KEPT if is_geopackage(store) else _POSTGRES_KEPT
            for statement in (*_INDEXES, *kept):
                store._execute(statement, {})
    _READY.add(store)


def _readable(store: Store) -> bool:
    """Say whether the team tables can be read (a store never served has none)."""
    return store in _READY or _has_tables(store)


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _log(store: Store, actor: str, action: str, detail: str = "", **about: str | None) -> None:
    """Append one line to the activity log (inside the caller's transaction)."""
    store._execute(
        "INSERT INTO team_activity (at, actor, action, crossing_id, record_id, proposal_id, "
        "detail) VALUES (:at, :actor, :action, :crossing_id, :record_id, :proposal_id, :detail)",
        {
            "at": _stamp(_now()),
            "actor": actor,
            "action": action,
            "crossing_id": about.get("crossing_id"),
            "record_id": about.get("record_id"),
            "proposal_id": about.get("proposal_id"),
            "detail": detail,
        },
    )


# -- accounts ----------------------------------------------------------------------------

_USER_COLUMNS = "name, role, disabled, created_at, created_by"


def _user(row: Sequence[Any]) -> User:
    return User(row[0], row[1], bool(row[2]), row[3], row[4])


def find_user(store: Store, name: str) -> User | None:
    """Return the account of that name (disabled or not), or None."""
    if not _readable(store):
        return None
    rows = store._query(
        f"SELECT {_USER_COLUMNS} FROM team_users WHERE name = :name", {"name": name}
    )
    return _user(rows[0]) if rows else None


def end_sessions(store: Store, name: str) -> None:
    """End every session of an account begun until now (signing out, on any server)."""
    ensure_team_tables(store)
    with store.transaction():
        store._execute(
            "INSERT INTO team_sessions (name, ended_at) VALUES (:name, :at) "
            "ON CONFLICT (name) DO UPDATE SET ended_at = :at",
            {"name": name, "at": _stamp(_now())},
        )


def sessions_ended_at(store: Store, name: str) -> str | None:
    """Return when an account last signed out (a session begun by then is over), or None."""
    if not _readable(store):
        return None
    rows = store._query("SELECT ended_at FROM team_sessions WHERE name = :name", {"name": name})
    return str(rows[0][0]) if rows else None


def session_begun() -> str:
    """Return the moment a session begins, as :func:`sessions_ended_at` compares it."""
    return _stamp(_now())


def list_users(store: Store) -> list[User]:
    """Return every account, by name."""
    if not _readable(store):
        return []
    return [
        _user(r) for r in store._query(f"SELECT {_USER_COLUMNS} FROM team_users ORDER BY name", {})
    ]


def has_role(user: User | None, role: str) -> bool:
    """Say whether an account may do what ``role`` may (a disabled one may do nothing)."""
    return user is not None and not user.disabled and ROLES.index(user.role) >= ROLES.index(role)


def _acting(store: Store, name: str, role: str, doing: str) -> User:
    """Return the active account ``name`` if its role allows ``role``'s work; refuse otherwise."""
    user = find_user(store, name) if _NAME.match(name or "") else None
    if user is None or user.disabled:
        raise NotAllowedError(f"{name!r} is not an active account, so it may not {doing}")
    if not has_role(user, role):
        raise NotAllowedError(
            f"{user.name} is a {user.role}, and only a {role} or above may {doing}"
        )
    return user


def _admin(store: Store, actor: str) -> str:
    """Return how the log names who manages accounts: an admin, or the command line."""
    if actor.startswith(CONSOLE):
        return actor
    return _acting(store, actor, "admin", "manage accounts").name


def _checked_name(name: str) -> str:
    if not _NAME.match(name):
        raise RecordValidationError(
            "NAME",
            name,
            "is not an account name",
            "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            "choose a name like 'jkim' or 'desk.editor'",
        )
    return name


def _checked_password(password: str) -> str:
    if not _PASSWORD_MIN <= len(password) <= _PASSWORD_MAX:
        raise RecordValidationError(
            "password",
            f"({len(password)} characters)",
            "is too short" if len(password) < _PASSWORD_MIN else "is too long",
            f"{_PASSWORD_MIN} to {_PASSWORD_MAX} characters",
            "choose a longer password, e.g. four unrelated words",
        )
    return password


def add_user(store: Store, name: str, role: str, password: str, *, actor: str) -> User:
    """Add an account with a role; its password is kept only as an Argon2 hash.

    Parameters
    ----------
    store : Store
        An open, writable store.
    name, role, password : str
        The account. ``role`` is one of :data:`ROLES`.
    actor : str
        Who adds it: an admin's account name, or ``"console:LOGIN"`` for whoever
        writes the store from the command line.

    Raises
    ------
    RecordValidationError
        For a bad name, role or password, or a name taken.
    NotAllowedError
        If ``actor`` is not an admin.
    """
    ensure_team_tables(store)
    role = parse_choice("--role", role, ROLES)
    name, password = _checked_name(name), _checked_password(password)
    with store.transaction():
        by = _admin(store, actor)
        if find_user(store, name) is not None:
            raise RecordValidationError(
                "NAME", name, "is taken", "a name no account has", "choose another name"
            )
        store._execute(
            "INSERT INTO team_users (name, role, password_hash, disabled, created_at, created_by) "
            "VALUES (:name, :role, :hash, 0, :at, :by)",
            {
                "name": name,
                "role": role,
                "hash": _HASHER.hash(password),
                "at": _stamp(_now()),
                "by": by,
            },
        )
        _log(store, by, "account added", f"{name} ({role})")
    return User(name, role, False, _stamp(_now()), by)


def disable_user(store: Store, name: str, *, actor: str) -> User:
    """Disable an account: it cannot sign in, and a session of it ends at its next request.

    Raises
    ------
    NotAllowedError
        If ``actor`` is not an admin.
    LookupError
        If there is no such account (:class:`TeamError`).
    """
    ensure_team_tables(store)
    with store.transaction():
        by = _admin(store, actor)
        user = find_user(store, name)
        if user is None:
            raise UnknownUserError(
                f"NAME: {shown(name)} is not an account. Fix: see `crossings users list`"
            )
        store._execute("UPDATE team_users SET disabled = 1 WHERE name = :name", {"name": name})
        _log(store, by, "account disabled", name)
    return User(user.name, user.role, True, user.created_at, user.created_by)


# -- signing in --------------------------------------------------------------------------


def _take_attempt(store: Store, keys: Sequence[str], now: datetime) -> bool:
    """Count an attempt against each key before its password is checked; False: refused.

    The count goes up in one statement (an upsert), so that attempts sent at
    once, to one server or several, each take their own place in the count:
    none is checked once :data:`LOCK_AFTER` are used up. A lock that has run
    out starts the count again.
    """
    at, until = _stamp(now), _stamp(now + timedelta(minutes=LOCK_MINUTES))
    allowed = True
    for key in keys:
        store._execute(
            "INSERT INTO team_logins (key, failures, last_failure, locked_until) "
            "VALUES (:key, 1, :at, NULL) ON CONFLICT (key) DO UPDATE SET "
            "failures = CASE WHEN team_logins.locked_until IS NOT NULL "
            "AND team_logins.locked_until <= :at THEN 1 ELSE team_logins.failures + 1 END, "
            "locked_until = CASE WHEN team_logins.locked_until <= :at THEN NULL "
            "ELSE team_logins.locked_until END, last_failure = :at",
            {"key": key, "at": at},
        )
        (failures,) = store._query(
            "SELECT failures FROM team_logins WHERE key = :key", {"key": key}
        )[0]
        if int(failures) > LOCK_AFTER:
            allowed = False
        elif int(failures) == LOCK_AFTER:  # the last attempt allowed: the lock starts with it
            store._execute(
                "UPDATE team_logins SET locked_until = :until WHERE key = :key",
                {"key": key, "until": until},
            )
    # Rows of names nobody has used for a day are let go: the table stays small.
    store._execute(
        "DELETE FROM team_logins WHERE last_failure < :old AND "
        "(locked_until IS NULL OR locked_until < :now)",
        {"old": _stamp(now - timedelta(days=1)), "now": at},
    )
    return allowed


def check_password(store: Store, name: str, password: str, *, client: str) -> User:
    """Return the account if the password is its own; count the failure in the store if not.

    After :data:`LOCK_AFTER` failures in a row for a name, or from a client
    address, both are refused for :data:`LOCK_MINUTES` minutes, the right
    password too. Each attempt is counted before its password is checked, so
    attempts sent at once cannot pass the limit. Every refusal says the same
    (:data:`LOGIN_REFUSED`), whether the name exists or not, and costs the same time.

    Raises
    ------
    LoginRefusedError
        A wrong name or password, a disabled account, or a lock.
    """
    ensure_team_tables(store)
    keys = (f"name:{name[:128]}", f"client:{client[:128]}")
    with store.transaction():  # the count is shared by every server
        allowed = _take_attempt(store, keys, _now())
    if not allowed:
        raise LoginRefusedError()
    rows = store._query(
        "SELECT password_hash, disabled FROM team_users WHERE name = :name", {"name": name}
    )
    stored, disabled = (rows[0][0], bool(rows[0][1])) if rows else (_dummy_hash(), True)
    try:
        good = _HASHER.verify(stored, password[:_PASSWORD_MAX]) and not disabled
    except (VerificationError, InvalidHashError):
        good = False
    if good:  # the attempt counted is let go: a right password starts the count again
        with store.transaction():
            store._execute(
                "DELETE FROM team_logins WHERE key = :a OR key = :b", {"a": keys[0], "b": keys[1]}
            )
    user = find_user(store, name) if good else None
    if user is None or user.disabled:
        raise LoginRefusedError()
    return user


# -- proposals ---------------------------------------------------------------------------

_PROPOSAL_COLUMNS = (
    "id, record_id, crossing_id, fields, state, proposed_by, proposed_at, reviewed_by, "
    "reviewed_at, reason"
)


def _proposal(row: Sequence[Any]) -> Proposal:
    return Proposal(
        id=row[0],
        record_id=row[1],
        crossing_id=row[2],
        fields=json.loads(row[3]),
        state=row[4],
        proposed_by=row[5],
        proposed_at=row[6],
        reviewed_by=row[7],
        reviewed_at=row[8],
        reason=row[9],
    )


def _given(fields: Mapping[str, object]) -> dict[str, str]:
    """Keep the form's fields, as text; any other key (who records it, an id) is left out."""
    return {
        name: str(fields[name]).strip() if fields[name] is not None else ""
        for name in FORM_FIELDS
        if name in fields
    }


def _as_observe(given: Mapping[str, str], user: str) -> dict[str, object]:
    """Return the fields as ``observe`` passes them: ``at`` split into lat and lon."""
    raw: dict[str, object] = {k: v for k, v in given.items() if k != "at"}
    at = given.get("at", "")
    raw["lat"], raw["lon"] = split_lat_lon(at) if at else ("", "")
    raw["recorded_by"] = user
    return raw


#: Where an error's field shows on the form (``location``, ``lat`` and ``lon``: the point).
_ON_FORM = {"location": "at", "lat": "at", "lon": "at", "precision": "date", "id": "summary"}
#: A field that may be left empty: after its error, the record is checked again without it.
_OPTIONAL = frozenset(FORM_FIELDS) - {"crossing_id", "date", "kind", "summary", "source_type"}


def plain_words(err: RecordValidationError) -> str:
    """Return an error as the form says it: the value, the problem, what is allowed, the fix."""
    text = f"{shown(err.value)} {err.problem}. Allowed: {err.allowed}. Fix: {err.fix}"
    if err.value in ("", None):
        text = f"This field {err.problem}. Allowed: {err.allowed}. Fix: {err.fix}"
    return re.sub(r"--([a-z][a-z-]*)", lambda m: f"“{m[1].replace('-', ' ')}”", text)


def _single_checks(given: Mapping[str, str], store: Store) -> dict[str, RecordValidationError]:
    """Check the fields every record needs, each alone, by the rules ``observe`` applies."""
    checks = {
        "crossing_id": lambda v: resolve_crossing_id(v, store.crossings(), field="crossing_id"),
        "date": lambda v: parse_fuzzy_date(v, today=today_or(None)),
        "kind": lambda v: parse_choice("kind", v, OBSERVATION_KINDS),
        "source_type": lambda v: parse_choice("source_type", v, SOURCE_TYPES),
        "source_url": lambda v: check_url("source_url", v) if v else None,
    }
    found = {}
    for field, check in checks.items():
        try:
            check(clean_text(given.get(field, ""), field))
        except RecordValidationError as err:
            found[field] = err
    return found


def _stand_in(field: str) -> str | None:
    """Return a value that stands in for a bad field every record needs, to check the rest."""
    today = today_or(None).isoformat()
    return {
        "date": today,
        "source_type": SOURCE_TYPES[0],
        "summary": "-",
        "source_url": "https://example.org/",
        "status": "unknown",  # a status record's, or a plan's
        "expected": today,  # a plan's
    }.get(field)


def field_errors(
    store: Store, given: Mapping[str, str], user: str, *, proposal_id: str = ""
) -> tuple[Observation | None, dict[str, str]]:
    """Check a proposal's fields by ``observe``'s rules; return the record or every error.

    :func:`geo.validate.parse_observation` names the first bad field; the record
    is checked again without each optional field found bad (or with a stand-in
    for a date, a summary or a source type), and the crossing and the kind are
    checked each alone, so the form shows every error at once. Only what
    ``parse_observation`` accepts is ever a record. ``proposal_id`` is the
    proposal being accepted, which is not a duplicate of itself.
    """
    fields = dict(given)
    errors: dict[str, RecordValidationError] = {}
    record = None
    for _ in range(len(FORM_FIELDS)):
        try:
            record = parse_observation(
                _as_observe(fields, user), store.crossings(), structures=store.structures()
            )
            break
        except RecordValidationError as err:
            where = _ON_FORM.get(err.field.split(".")[0], err.field)
            if where in errors:  # left empty, it is wrong again: one that fits, if any
                stand_in = _stand_in(where) if fields.get(where) == "" else None
            else:
                stand_in = "" if where in _OPTIONAL else _stand_in(where)
            if stand_in is None:
                errors.setdefault(where, err)
                errors.update(
                    {k: v for k, v in _single_checks(given, store).items() if k not in errors}
                )
                break
            errors.setdefault(where, err)
            fields[where] = stand_in
    if errors or record is None:
        return None, {field: plain_words(err) for field, err in errors.items()}
    return record, _stored_errors(store, record, proposal_id)


def _stored_errors(store: Store, record: Observation, proposal_id: str) -> dict[str, str]:
    """Say what the store already holds against a record: itself, or not what it replaces."""
    if store.observation(record.id) is not None or _pending(store, record.id, proposal_id):
        return {
            "summary": "The same record (same crossing, date, kind, summary and source) is "
            "already in the store or waiting for review. Fix: reword the summary if it says "
            "something new, or leave it"
        }
    if record.replaces is not None:
        target = store.observation(record.replaces)
        if target is None:
            return {
                "replaces": f"{record.replaces!r} is not a record in the store. Fix: copy "
                "the id from the crossing's history"
            }
        if target.crossing_id != record.crossing_id:
            return {
                "replaces": f"{record.replaces!r} is a record of "
                f"{target.crossing_id or 'the whole border'}. Fix: check the crossing or "
                "the record id"
            }
    return {}


def _pending(store: Store, record_id: str, proposal_id: str) -> bool:
    return bool(
        store._query(
            "SELECT 1 FROM team_proposals WHERE record_id = :id AND state = 'proposed' "
            "AND id <> :proposal",
            {"id": record_id, "proposal": proposal_id},
        )
    )


def propose(store: Store, fields: Mapping[str, object], *, user: str) -> Proposal:
    """Propose a record from a form: checked as ``observe`` checks it, kept until reviewed.

    Parameters
    ----------
    store : Store
        An open, writable store.
    fields : mapping
        The form's fields (:data:`FORM_FIELDS`; ``at`` is ``LAT,LON``). Any other
        key is ignored: who records it is ``user``.
    user : str
        The contributor's account name (a session's, never a form's).

    Returns
    -------
    Proposal

    Raises
    ------
    FormError
        With every bad field and what is wrong with it; nothing is written.
    NotAllowedError
        If ``user`` is not an active contributor (or above).
    """
    ensure_team_tables(store)
    given = _given(fields)
    with store.transaction():
        author = _acting(store, user, "contributor", "propose records").name
        record, errors = field_errors(store, given, author)
        if errors or record is None:
            raise FormError(errors)
        found = Proposal(
            id=f"p-{secrets.token_hex(5)}",
            record_id=record.id,
            crossing_id=record.crossing_id,
            fields=given,
            state="proposed",
            proposed_by=author,
            proposed_at=_stamp(_now()),
            reviewed_by=None,
            reviewed_at=None,
            reason=None,
        )
        store._execute(
            f"INSERT INTO team_proposals ({_PROPOSAL_COLUMNS}) VALUES (:id, :record_id, "
            ":crossing_id, :fields, :state, :proposed_by, :proposed_at, NULL, NULL, NULL)",
            {**found.__dict__, "fields": json.dumps(given, ensure_ascii=False, sort_keys=True)},
        )
        action = "correction proposed" if record.replaces else "record proposed"
        _log(
            store,
            author,
            action,
            record.summary,
            crossing_id=record.crossing_id,
            record_id=record.id,
            proposal_id=found.id,
        )
    return found


def proposal(store: Store, proposal_id: str) -> Proposal:
    """Return one proposal.

    Raises
    ------
    UnknownProposalError
        If no proposal has that id.
    """
    rows = (
        store._query(
            f"SELECT {_PROPOSAL_COLUMNS} FROM team_proposals WHERE id = :id", {"id": proposal_id}
        )
        if _readable(store)
        else []
    )
    if not rows:
        raise UnknownProposalError(f"{shown(proposal_id)} is not a proposal")
    return _proposal(rows[0])


def proposals(
    store: Store, state: str | None = "proposed", crossing_id: str | None = None
) -> list[Proposal]:
    """Return proposals, oldest first: those waiting (the default), or of a state, or all.

    ``crossing_id`` keeps a crossing's (``"border"``: those of the whole border).
    """
    if not _readable(store):
        return []
    where, params = ["1 = 1"], {}
    if state is not None:
        where.append("state = :state")
        params["state"] = parse_choice("state", state, STATES)
    if crossing_id == "border":
        where.append("crossing_id IS NULL")
    elif crossing_id is not None:
        where.append("crossing_id = :crossing")
        params["crossing"] = crossing_id
    rows = store._query(
        f"SELECT {_PROPOSAL_COLUMNS} FROM team_proposals WHERE {' AND '.join(where)} "
        "ORDER BY proposed_at, id",
        params,
    )
    return [_proposal(row) for row in rows]


def _waiting(store: Store, proposal_id: str, reviewer: str) -> tuple[str, Proposal]:
    """Return the reviewer's name and the proposal, if it waits and another proposed it."""
    name = _acting(store, reviewer, "reviewer", "review proposals").name
    found = proposal(store, proposal_id)
    if found.state != "proposed":
        raise TeamError(
            f"proposal {found.id} was {found.state} by {found.reviewed_by} already; nothing "
            "was changed"
        )
    if found.proposed_by == name:
        raise NotAllowedError(f"{name} proposed {found.id}: a proposal is reviewed by someone else")
    return name, found


def _status_text(store: Store, crossing_id: str | None) -> str:
    if crossing_id is None:
        return ""
    answer = status_on(store, crossing_id, today_or(None))
    return answer.status or "none"


def accept(store: Store, proposal_id: str, *, reviewer: str) -> Observation:
    """Accept a proposal: the record joins the observations, as ``observe`` adds one.

    The record is checked again against the store as it is now, then added
    with the status snapshot it changes, the proposal marked accepted and the
    log written: in one transaction, all or nothing. It may change a status.

    Raises
    ------
    NotAllowedError
        If ``reviewer`` is not an active reviewer (or above), or proposed it.
    FormError
        If the record is no longer acceptable (a duplicate stored since, say).
    TeamError
        If the proposal was reviewed already.
    """
    ensure_team_tables(store)
    with store.transaction():
        name, found = _waiting(store, proposal_id, reviewer)
        record, errors = field_errors(store, found.fields, found.proposed_by, proposal_id=found.id)
        if errors or record is None:
            raise FormError(errors)
        before = _status_text(store, record.crossing_id)
        store.add_observations([record])
        changes = can_change_status(record) or record.crossing_id is None
        if changes:
            refresh_status_snapshot(store, {record.crossing_id})
        # A record that cannot change a status (a traffic record, say) leaves it as it was.
        after = _status_text(store, record.crossing_id) if changes else before
        store._execute(
            "UPDATE team_proposals SET state = 'accepted', reviewed_by = :by, reviewed_at = :at "
            "WHERE id = :id AND state = 'proposed'",
            {"by": name, "at": _stamp(_now()), "id": found.id},
        )
        detail = record.summary + (
            f" (status today: {before} → {after})" if before != after else ""
        )
        _log(
            store,
            name,
            "proposal accepted",
            detail,
            crossing_id=record.crossing_id,
            record_id=record.id,
            proposal_id=found.id,
        )
    return record


def reject(store: Store, proposal_id: str, reason: str, *, reviewer: str) -> Proposal:
    """Reject a proposal with a reason; it is kept, with the reason, and never joins the records.

    Raises
    ------
    NotAllowedError
        If ``reviewer`` is not an active reviewer (or above), or proposed it.
    RecordValidationError
        If the reason is empty or too long.
    """
    ensure_team_tables(store)
    reason = " ".join(clean_text(reason, "reason").split())[: _REASON_MAX + 1]
    if not reason or len(reason) > _REASON_MAX:
        raise RecordValidationError(
            "reason",
            reason,
            "is empty" if not reason else "is too long",
            f"1 to {_REASON_MAX} characters saying why",
            "say why the record is not accepted, so its author can correct it",
        )
    with store.transaction():
        name, found = _waiting(store, proposal_id, reviewer)
        store._execute(
            "UPDATE team_proposals SET state = 'rejected', reviewed_by = :by, reviewed_at = :at, "
            "reason = :reason WHERE id = :id AND state = 'proposed'",
            {"by": name, "at": _stamp(_now()), "id": found.id, "reason": reason},
        )
        _log(
            store,
            name,
            "proposal rejected",
            reason,
            crossing_id=found.crossing_id,
            record_id=found.record_id,
            proposal_id=found.id,
        )
    return proposal(store, proposal_id)


# -- the log -----------------------------------------------------------------------------


def activity(
    store: Store,
    crossing_id: str | None = None,
    record_id: str | None = None,
    *,
    limit: int = 500,
) -> list[Activity]:
    """Return the log, newest first: all of it, a crossing's, or a record's (up to ``limit``)."""
    if not _readable(store):
        return []
    where, params = ["1 = 1"], {}
    if crossing_id is not None:
        where.append("crossing_id = :crossing")
        params["crossing"] = crossing_id
    if record_id is not None:
        where.append("record_id = :record")
        params["record"] = record_id
    rows = store._query(
        "SELECT at, actor, action, crossing_id, record_id, proposal_id, detail FROM "
        f"team_activity WHERE {' AND '.join(where)} ORDER BY fid DESC LIMIT {int(limit)}",
        params,
    )
    return [Activity(*row) for row in rows]


def proposal_points(store: Store, waiting: Iterable[Proposal]) -> list[dict[str, Any]]:
    """Return where each waiting proposal is about, for a map: its own point or its crossing's."""
    crossings = store.crossings()
    found: list[dict[str, Any]] = []
    for item in waiting:
        at = item.fields.get("at", "")
        crossing = crossings.get(item.crossing_id or "")
        point = parse_lat_lon(*split_lat_lon(at)) if at else crossing and crossing.location
        if not point:
            continue
        lat, lon = point.lat, point.lon
        found.append(
            {
                "id": item.id,
                "record_id": item.record_id,
                "crossing_id": item.crossing_id,
                "lat": lat,
                "lon": lon,
                "date": item.fields.get("date", ""),
                "kind": item.fields.get("kind", ""),
                "status": item.fields.get("status", ""),
                "summary": item.fields.get("summary", ""),
                "proposed_by": item.proposed_by,
                "proposed_at": item.proposed_at,
            }
        )
    return found


def day_of(stamp: str) -> date:
    """Return the day of a log's time stamp."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).date()
