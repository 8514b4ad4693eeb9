"""The status rule run by the PostGIS server: every crossing's answer on a day in one round trip.

Reading through the indexes (:class:`geo.store.source.StoreSource`) costs the
rule about 14 lookups a crossing, each a round trip to the server. Here the
same rule, step for step as :func:`geo.status.evaluate` takes it, is a few
PL/pgSQL functions that each connection creates once in its own temporary
schema (``pg_temp``: nothing is added to the store, no migration, and the
server always runs the rule of the release that asks). One statement then
answers for every crossing: its status, since when, the deciding record, the
evidence and how many records agree, the conflicts and the plans, with the
records themselves.

A question asked inside a transaction on a connection that has not created
the functions yet, or on a server that refuses them (a read-only standby, a
user without the right to create temporary objects), reads through the
indexes as before: the answers are the same.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from geo.model import LIFECYCLES, STATUSES, Observation
from geo.status import _SERVED, EVIDENCE_LOOKBACK, RecordSource, StatusAnswer
from geo.store.base import Store
from geo.store.schema import LASTING, OBSERVATIONS

if TYPE_CHECKING:
    import psycopg

#: The PostGIS store this module answers for (geo.store.postgis.PostgisStore, which imports
#: this module: named here only by what it is, so that the two do not import each other).
PostgisStore = Any

__all__ = ["ANSWERS", "FUNCTIONS", "ServerSource", "day_answers", "server_can_answer"]

_log = logging.getLogger(__name__)


def _words(values: Sequence[str]) -> str:
    """Return words of a vocabulary as SQL string literals, in their order."""
    return ", ".join(f"'{value}'" for value in values)


# -- the SQL ------------------------------------------------------------------------------

#: The fields of a record the rule compares, as the type ``pg_temp.crossings_rec`` holds them.
_REC = (
    "o.id AS id, o.crossing_id IS NULL AS wide, o.date_end AS date_end, "
    "o.date_start AS date_start, o.source_url IS NOT NULL AS has_url, o.status AS status, "
    "o.until IS NOT NULL AS temporary, o.until_end AS until_end, "
    "array_remove(string_to_array(coalesce(o.traffic, ''), ','), '') AS traffic, "
    "coalesce(o.source_quote, '') <> '' AS has_quote, "
    "CASE o.date_precision WHEN 'month' THEN 1 WHEN 'day' THEN 2 ELSE 0 END AS precision_rank, "
    "false AS replaced"
)
#: The same, with whether a record replaces it, asked of the one row a probe gives.
_PROBED = _REC.replace(
    "false AS replaced", "EXISTS (SELECT 1 FROM observations r WHERE r.replaces = o.id) AS replaced"
)
_IN_FORCE = "NOT EXISTS (SELECT 1 FROM observations r WHERE r.replaces = o.id)"
#: A border-wide record that lists crossing ``c`` (or says ``all``).
_LISTS = "string_to_array(o.applies_to, ',') && ARRAY['all', c]"
#: The rule's order (geo.status.rule_order) of the rows of observations o, newest first.
_ORDER_DESC = "o.date_end DESC, o.date_start DESC, (o.source_url IS NOT NULL) DESC, o.id DESC"
_STATUS_WORDS = _words(STATUSES)
_TEMPORARY = f"o.until IS NOT NULL AND o.kind = 'status' AND o.status IN ({_STATUS_WORDS})"
_LIFECYCLE = (
    "o.structure_id IN (SELECT s.id FROM structures s WHERE s.crossing_id = c) "
    f"AND o.kind = 'infrastructure' AND o.lifecycle IN ({_words(LIFECYCLES)}) AND {_IN_FORCE}"
)


def _key(name: str) -> str:
    """Return the rule's order of a crossings_rec (geo.status.rule_order), as a row."""
    return f"({name}.date_end, {name}.date_start, NOT {name}.wide, {name}.has_url, {name}.id)"


def _rank(name: str) -> str:
    """Return how well a reader can check a crossings_rec (geo.status.evidence_rank), as a row."""
    return (
        f"(NOT {name}.wide, {name}.has_url, {name}.has_quote, {name}.precision_rank, "
        f"{name}.date_end, {name}.date_start, NOT {name}.wide, {name}.has_url, {name}.id)"
    )


# Created once a connection (a statement that drops anything would make the driver forget
# the statements it prepared).
_TYPE = """
CREATE TYPE pg_temp.crossings_rec AS (
    id text, wide boolean, date_end date, date_start date, has_url boolean, status text,
    temporary boolean, until_end date, traffic text[], has_quote boolean, precision_rank integer,
    replaced boolean
);
"""


_BELOW = "o.date_end <= upto AND (o.date_end, o.date_start) < (b_end, b_start)"
_KEY_ROW = "(o.date_end, o.date_start, o.source_url IS NOT NULL, o.id)"
#: The rule's order of the rows of a union ``u`` of crossings_rec, newest first.
_LATER_FIRST = "u.date_end DESC, u.date_start DESC, (NOT u.wide) DESC, u.has_url DESC, u.id DESC"
_KEYSET = """
    k_end date;
    k_start date;
    k_url boolean;
    k_id text;"""


def _probe(where: str, order: str, *, wide: str = "") -> str:
    """Return PL/pgSQL that reads into ``newest`` the first record in force of ``where``.

    One probe of the index a step, in its order, LIMIT 1, from the key
    ``k_*`` (the caller sets it: the one bound of the dates the index starts
    from); a record another replaces is stepped past. (A test of being
    replaced in the WHERE clause would let the planner sort every match
    before it keeps the first.) The query ``wide`` of the border's records,
    few, is asked in the same statement.
    """
    cmp = "<" if order == "DESC" else ">"
    own = f"""SELECT {_PROBED} FROM observations o
            WHERE {where} AND {_KEY_ROW} {cmp} (k_end, k_start, k_url, k_id)
            ORDER BY o.date_end {order}, o.date_start {order},
                (o.source_url IS NOT NULL) {order}, o.id {order}
            LIMIT 1"""
    if wide:
        own = f"""SELECT * FROM (({own}) UNION ALL ({wide})) u
        ORDER BY {_LATER_FIRST} LIMIT 1"""
    return f"""
    LOOP
        {own} INTO newest;
        EXIT WHEN newest.id IS NULL OR NOT newest.replaced;
        k_end := newest.date_end;
        k_start := newest.date_start;
        k_url := newest.has_url;
        k_id := newest.id;
    END LOOP;"""


_OWN_LASTING = f"o.crossing_id = c AND {LASTING}"
#: The key a probe of the lasting records starts below: the lower of the two bounds, known by
#: `upto` and below (b_end, b_start).
_FROM_BOUNDS = """
    k_end := upto;
    k_start := 'infinity';
    k_url := true;
    k_id := '';
    IF (b_end, b_start) <= (upto, 'infinity'::date) THEN
        k_end := b_end;
        k_start := b_start;
        k_url := false;
    END IF;"""
_WIDE_LASTING = f"""SELECT {_REC} FROM observations o
            WHERE o.crossing_id IS NULL AND {LASTING} AND {_LISTS} AND {_BELOW}
                AND (st IS NULL OR o.status = st) AND {_IN_FORCE}
            ORDER BY {_ORDER_DESC} LIMIT 1"""

# The last lasting record of crossing c known by `upto`, of dates below (b_end, b_start), of
# status st (any when NULL): StoreSource.latest, the crossing's own and the border's.
_LATEST = f"""
CREATE FUNCTION pg_temp.crossings_latest(c text, upto date, b_end date, b_start date, st text)
RETURNS pg_temp.crossings_rec LANGUAGE plpgsql STABLE AS $f$
DECLARE
    newest pg_temp.crossings_rec;{_KEYSET}
BEGIN{_FROM_BOUNDS}
    IF st IS NULL THEN{_probe(_OWN_LASTING, "DESC", wide=_WIDE_LASTING)}
    ELSE{_probe(f"{_OWN_LASTING} AND o.status = st", "DESC", wide=_WIDE_LASTING)}
    END IF;
    RETURN newest;
END $f$;
"""

# The last lasting record of c known by `upto`, below (b_end, b_start), of a status other than
# st: crossings_latest of each other status, the latest of them, asked in one statement.
_LATEST_OTHER = f"""
CREATE FUNCTION pg_temp.crossings_latest_other(
    c text, upto date, b_end date, b_start date, st text
) RETURNS pg_temp.crossings_rec LANGUAGE plpgsql STABLE AS $f$
DECLARE
    newest pg_temp.crossings_rec;
    candidate pg_temp.crossings_rec;
    each_status text;{_KEYSET}
BEGIN{_FROM_BOUNDS}
    SELECT * INTO newest FROM (
        (SELECT p.* FROM unnest(ARRAY[{_STATUS_WORDS}]) AS w (status_word)
        CROSS JOIN LATERAL (
            SELECT {_PROBED} FROM observations o
            WHERE {_OWN_LASTING} AND o.status = w.status_word
                AND {_KEY_ROW} < (k_end, k_start, k_url, k_id)
            ORDER BY {_ORDER_DESC} LIMIT 1) p
        WHERE w.status_word <> st)
        UNION ALL
        (SELECT {_REC} FROM observations o
        WHERE o.crossing_id IS NULL AND {LASTING} AND {_LISTS} AND {_BELOW} AND o.status <> st
            AND {_IN_FORCE}
        ORDER BY {_ORDER_DESC} LIMIT 1)
    ) u ORDER BY {_LATER_FIRST} LIMIT 1;
    IF newest.replaced THEN  -- a later record replaced it: each status apart, stepping past
        newest := NULL;
        FOREACH each_status IN ARRAY ARRAY[{_STATUS_WORDS}] LOOP
            CONTINUE WHEN each_status = st;
            candidate := pg_temp.crossings_latest(c, upto, b_end, b_start, each_status);
            IF candidate.id IS NOT NULL
                AND (newest.id IS NULL OR {_key("candidate")} > {_key("newest")}) THEN
                newest := candidate;
            END IF;
        END LOOP;
    END IF;
    RETURN newest;
END $f$;
"""

# The status records with `until` that name crossing c, in force (StoreSource.temporaries).
_TEMPORARIES = f"""
CREATE FUNCTION pg_temp.crossings_temporaries(c text)
RETURNS SETOF pg_temp.crossings_rec LANGUAGE sql STABLE AS $f$
    SELECT {_REC} FROM observations o WHERE o.crossing_id = c AND {_TEMPORARY} AND {_IN_FORCE}
    UNION ALL
    SELECT {_REC} FROM observations o
    WHERE o.crossing_id IS NULL AND {_TEMPORARY} AND {_LISTS} AND {_IN_FORCE}
$f$;
"""

# The record deciding the status of c on day w, without its conflicts (geo.status._decide).
_TOP = f"""
CREATE FUNCTION pg_temp.crossings_top(c text, w date)
RETURNS pg_temp.crossings_rec LANGUAGE plpgsql STABLE AS $f$
DECLARE
    lasting pg_temp.crossings_rec := pg_temp.crossings_latest(c, w, 'infinity', 'infinity', NULL);
    active pg_temp.crossings_rec;
BEGIN
    SELECT * INTO active FROM pg_temp.crossings_temporaries(c) t
    WHERE t.date_end <= w AND w <= t.until_end
    ORDER BY t.date_end DESC, t.date_start DESC, (NOT t.wide) DESC, t.has_url DESC, t.id DESC
    LIMIT 1;
    IF active.id IS NOT NULL AND (lasting.id IS NULL OR {_key("active")} > {_key("lasting")}) THEN
        RETURN active;
    END IF;
    RETURN lasting;
END $f$;
"""
# The records of the deciding record's dates that say another status, in status order
# (geo.status._decide): the best of each status among the lasting ones and those in force.
_CONFLICTS = f"""
CREATE FUNCTION pg_temp.crossings_conflicts(c text, d date, top pg_temp.crossings_rec)
RETURNS text[] LANGUAGE plpgsql STABLE AS $f$
DECLARE
    picked text[];
    shaky boolean;
BEGIN
    -- One probe of the index a status; the border's and the temporary records, few, beside.
    SELECT coalesce(array_agg(g.id ORDER BY g.status), '{{}}'), coalesce(bool_or(g.replaced), false)
    INTO picked, shaky FROM (
        SELECT DISTINCT ON (r.status) r.id, r.status, r.replaced FROM (
            SELECT p.* FROM unnest(ARRAY[{_STATUS_WORDS}]) AS w (status_word)
            CROSS JOIN LATERAL (
                SELECT {_PROBED} FROM observations o
                WHERE o.crossing_id = c AND {LASTING} AND o.status = w.status_word
                    AND o.date_end = top.date_end AND o.date_start = top.date_start
                ORDER BY (o.source_url IS NOT NULL) DESC, o.id DESC LIMIT 1) p
            WHERE w.status_word <> top.status
            UNION ALL
            SELECT {_REC} FROM observations o
            WHERE o.crossing_id IS NULL AND {LASTING} AND {_LISTS}
                AND o.date_end = top.date_end AND o.date_start = top.date_start AND {_IN_FORCE}
            UNION ALL
            SELECT * FROM pg_temp.crossings_temporaries(c) t
            WHERE t.date_end <= d AND d <= t.until_end AND t.date_end = top.date_end
                AND t.date_start = top.date_start
        ) r
        WHERE r.status <> top.status
        ORDER BY r.status, (NOT r.wide) DESC, r.has_url DESC, r.id DESC
    ) g;
    IF NOT shaky THEN
        RETURN picked;
    END IF;
    -- A record picked was replaced by a later one: the dates' records read whole.
    RETURN (SELECT coalesce(array_agg(g.id ORDER BY g.status), '{{}}') FROM (
        SELECT DISTINCT ON (r.status) r.id, r.status FROM (
            SELECT {_REC} FROM observations o
            WHERE o.crossing_id = c AND {LASTING} AND o.date_end = top.date_end
                AND o.date_start = top.date_start AND {_IN_FORCE}
            UNION ALL
            SELECT {_REC} FROM observations o
            WHERE o.crossing_id IS NULL AND {LASTING} AND {_LISTS}
                AND o.date_end = top.date_end AND o.date_start = top.date_start AND {_IN_FORCE}
            UNION ALL
            SELECT * FROM pg_temp.crossings_temporaries(c) t
            WHERE t.date_end <= d AND d <= t.until_end AND t.date_end = top.date_end
                AND t.date_start = top.date_start
        ) r
        WHERE r.status <> top.status
        ORDER BY r.status, (NOT r.wide) DESC, r.has_url DESC, r.id DESC
    ) g);
END $f$;
"""

# The first day after `after` on which a lasting record of c counts (StoreSource.next_day).
_NEXT_DAY = f"""
CREATE FUNCTION pg_temp.crossings_next_day(c text, after date)
RETURNS date LANGUAGE plpgsql STABLE AS $f$
DECLARE
    newest pg_temp.crossings_rec;{_KEYSET}
BEGIN
    k_end := after;  -- every record of a later last day
    k_start := 'infinity';
    k_url := true;
    k_id := '';{_probe(f"o.crossing_id = c AND {LASTING}", "ASC")}
    RETURN least(newest.date_end, (
        SELECT min(o.date_end) FROM observations o
        WHERE o.crossing_id IS NULL AND {LASTING} AND {_LISTS} AND o.date_end > after
            AND {_IN_FORCE}));
END $f$;
"""

# The lifecycle record to show on day w when no structure of c has entered service
# (geo.status._lifecycle_state): the most advanced structure's latest, the first met on a tie.
_LIFECYCLE_ON = f"""
CREATE FUNCTION pg_temp.crossings_lifecycle_on(
    c text, w date, OUT shown_id text, OUT shown_lifecycle text, OUT shown_end date
) LANGUAGE plpgsql STABLE AS $f$
DECLARE
    owned text[] := ARRAY(SELECT s.id FROM structures s WHERE s.crossing_id = c);
    steps text[] := ARRAY[{_words(LIFECYCLES)}];
    seen text[] := '{{}}';
    ids text[] := '{{}}';
    states text[] := '{{}}';
    ends date[] := '{{}}';
    rec record;
    k integer;
    best integer;
BEGIN
    IF cardinality(owned) = 0 THEN
        RETURN;
    END IF;
    FOR rec IN
        SELECT o.id, o.structure_id, o.lifecycle, o.date_end FROM observations o
        WHERE {_LIFECYCLE} AND o.date_end <= w
        ORDER BY o.date_end, o.date_start, o.crossing_id IS NOT NULL,
            o.source_url IS NOT NULL, o.id
    LOOP
        IF rec.lifecycle IN ({_words(sorted(_SERVED))}) THEN
            RETURN;
        END IF;
        k := array_position(seen, rec.structure_id);
        IF k IS NULL THEN
            seen := seen || rec.structure_id;
            ids := ids || rec.id;
            states := states || rec.lifecycle;
            ends := ends || rec.date_end;
        ELSE
            ids[k] := rec.id;
            states[k] := rec.lifecycle;
            ends[k] := rec.date_end;
        END IF;
    END LOOP;
    IF NOT owned <@ seen THEN
        RETURN;
    END IF;
    FOR k IN 1 .. cardinality(seen) LOOP
        IF best IS NULL OR (array_position(steps, states[k]), ends[k])
                > (array_position(steps, states[best]), ends[best]) THEN
            best := k;
        END IF;
    END LOOP;
    shown_id := ids[best];
    shown_lifecycle := states[best];
    shown_end := ends[best];
END $f$;
"""

# The day the traffic status st of day d began, and the record that began it
# (geo.status._run_start).
_RUN_START = """
CREATE FUNCTION pg_temp.crossings_run_start(
    c text, d date, st text, OUT since_day date, OUT since_id text
) LANGUAGE plpgsql STABLE AS $f$
DECLARE
    bounds date[] := ARRAY(
        SELECT DISTINCT b.day FROM (
            SELECT t.date_end AS day FROM pg_temp.crossings_temporaries(c) t
            UNION SELECT t.until_end + 1 FROM pg_temp.crossings_temporaries(c) t
        ) b WHERE b.day <= d ORDER BY b.day);
    last date;
    boundary date;
    other pg_temp.crossings_rec;
    top pg_temp.crossings_rec;
    b_end date := 'infinity';
    b_start date := 'infinity';
BEGIN
    FOREACH boundary IN ARRAY bounds LOOP
        IF (pg_temp.crossings_top(c, boundary)).status IS DISTINCT FROM st THEN
            last := boundary;
        END IF;
    END LOOP;
    LOOP
        other := pg_temp.crossings_latest_other(c, d, b_end, b_start, st);
        EXIT WHEN other.id IS NULL;
        IF (pg_temp.crossings_top(c, other.date_end)).status IS DISTINCT FROM st THEN
            last := greatest(last, other.date_end);
            EXIT;
        END IF;
        b_end := other.date_end;
        b_start := other.date_start;
    END LOOP;
    IF last IS NOT NULL THEN
        since_day := least(
            pg_temp.crossings_next_day(c, last),
            (SELECT min(b) FROM unnest(bounds) b WHERE b > last));
    ELSE
        since_day := least(pg_temp.crossings_next_day(c, '0001-01-01'), bounds[1]);
    END IF;
    top := pg_temp.crossings_top(c, since_day);
    IF top.id IS NOT NULL AND top.date_end = since_day THEN
        since_id := top.id;
    END IF;
END $f$;
"""

# The record of the run a reader can check best, and how many say the same
# (geo.status._best_evidence).
_EVIDENCE = f"""
CREATE FUNCTION pg_temp.crossings_evidence(
    c text, d date, top pg_temp.crossings_rec, since_day date,
    OUT evidence_id text, OUT supporting integer
) LANGUAGE plpgsql STABLE AS $f$
DECLARE
    best pg_temp.crossings_rec := top;
    cand pg_temp.crossings_rec;
    -- The run's first record read is the deciding one itself: the walk begins below it.
    b_end date := top.date_end;
    b_start date := top.date_start;
BEGIN
    supporting := 1;
    IF NOT top.temporary AND top.status IS NOT NULL THEN
        WHILE supporting < {EVIDENCE_LOOKBACK} LOOP
            cand := pg_temp.crossings_latest(c, d, b_end, b_start, top.status);
            EXIT WHEN cand.id IS NULL OR since_day IS NULL OR cand.date_end < since_day;
            b_end := cand.date_end;
            b_start := cand.date_start;
            IF cand.id <> top.id AND cand.traffic = top.traffic THEN
                supporting := supporting + 1;
                IF {_rank("cand")} > {_rank("best")} THEN
                    best := cand;
                END IF;
            END IF;
        END LOOP;
    END IF;
    evidence_id := best.id;
END $f$;
"""

# A crossing's status on day d (geo.status.evaluate), as ids of the records it rests on. Every
# statement of the functions is planned once a connection, for any values: planning one costs
# more than running it, and each is a probe of an index in its order.
_EVALUATE = f"""
CREATE FUNCTION pg_temp.crossings_evaluate(
    c text, d date, OUT answer_status text, OUT lifecycle_shown boolean, OUT record_id text,
    OUT since_day date, OUT since_id text, OUT evidence_id text, OUT supporting integer,
    OUT conflict_ids text[], OUT plan_ids text[]
) LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $f$
DECLARE
    top pg_temp.crossings_rec;
    began pg_temp.crossings_rec;
    shown record;
    step record;
    started record;
    chosen record;
    w date;
    shown_before boolean := false;
    ended date;
BEGIN
    plan_ids := ARRAY(
        SELECT p.id FROM (
            SELECT {_REC} FROM observations o
            WHERE o.crossing_id = c AND o.kind = 'plan' AND o.date_end <= d AND {_IN_FORCE}
            UNION ALL
            SELECT {_REC} FROM observations o
            WHERE o.crossing_id IS NULL AND o.kind = 'plan' AND {_LISTS} AND o.date_end <= d
                AND {_IN_FORCE}
        ) AS p
        ORDER BY p.date_end, p.date_start, NOT p.wide, p.has_url, p.id);
    conflict_ids := '{{}}';
    supporting := 0;
    lifecycle_shown := false;
    SELECT * INTO shown FROM pg_temp.crossings_lifecycle_on(c, d);
    IF shown.shown_id IS NOT NULL THEN
        answer_status := shown.shown_lifecycle;
        lifecycle_shown := true;
        record_id := shown.shown_id;
        evidence_id := shown.shown_id;
        supporting := 1;
    ELSE
        top := pg_temp.crossings_top(c, d);
        IF top.id IS NULL THEN
            RETURN;
        END IF;
        answer_status := top.status;
        record_id := top.id;
        conflict_ids := pg_temp.crossings_conflicts(c, d, top);
    END IF;
    FOR w IN SELECT DISTINCT o.date_end FROM observations o
            WHERE {_LIFECYCLE} AND o.date_end <= d ORDER BY 1 LOOP
        SELECT * INTO step FROM pg_temp.crossings_lifecycle_on(c, w);
        IF step.shown_id IS NOT NULL AND step.shown_lifecycle = answer_status AND lifecycle_shown
        THEN
            IF since_day IS NULL THEN
                since_day := w;
                since_id := CASE WHEN step.shown_end = w THEN step.shown_id END;
            END IF;
        ELSE
            since_day := NULL;
        END IF;
        IF shown_before AND step.shown_id IS NULL THEN
            ended := w;
        END IF;
        shown_before := step.shown_id IS NOT NULL;
    END LOOP;
    IF NOT lifecycle_shown THEN
        SELECT * INTO started FROM pg_temp.crossings_run_start(c, d, answer_status);
        since_day := started.since_day;
        since_id := started.since_id;
        IF ended IS NOT NULL AND ended > since_day THEN
            began := pg_temp.crossings_top(c, ended);
            since_day := ended;
            since_id := CASE WHEN began.date_end = ended THEN began.id END;
        END IF;
        SELECT * INTO chosen FROM pg_temp.crossings_evidence(c, d, top, since_day);
        evidence_id := chosen.evidence_id;
        supporting := chosen.supporting;
    END IF;
END $f$;
"""

#: What a connection runs once to create the rule's functions in its temporary schema.
_STEPS = (_TYPE, _LATEST, _LATEST_OTHER, _TEMPORARIES, _TOP, _CONFLICTS, _NEXT_DAY, _LIFECYCLE_ON)
FUNCTIONS = "".join((*_STEPS, _RUN_START, _EVIDENCE, _EVALUATE))

_OBS_COLUMNS = ", ".join(f'o."{f.name}"' for f in OBSERVATIONS.fields)

#: Every crossing's answer on a day, each with the records it names (one row a record).
ANSWERS = f"""
WITH answers AS MATERIALIZED (
    SELECT x.fid, x.id AS crossing, e.*
    FROM crossings x CROSS JOIN LATERAL pg_temp.crossings_evaluate(x.id, %(day)s) e
)
SELECT a.crossing, a.answer_status, a.lifecycle_shown, a.since_day, a.supporting, a.record_id,
    a.evidence_id, a.since_id, a.conflict_ids, a.plan_ids,
    ST_X(o.geom), ST_Y(o.geom), {_OBS_COLUMNS}
FROM answers a
LEFT JOIN observations o
    ON o.id = ANY (ARRAY[a.record_id, a.evidence_id, a.since_id] || a.conflict_ids || a.plan_ids)
ORDER BY a.fid
"""

# -- the connections that hold the functions ---------------------------------------------

#: The connections that created the functions (in a statement of their own, committed),
#: and those whose server refused them: each stays so for its life.
_READY: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()
_REFUSED: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()


def server_can_answer(connection: psycopg.Connection[Any]) -> bool:
    """Say whether the connection holds the rule's functions, creating them if it can.

    They are created only outside a transaction (so that no rollback can drop
    them unseen), once a connection; a server that refuses them is not asked again.
    """
    import psycopg

    if connection in _READY:
        return True
    if connection in _REFUSED:
        return False
    if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return False
    try:
        connection.execute(FUNCTIONS, prepare=False)  # type: ignore[call-overload]
    except psycopg.Error as err:  # any refusal: the indexes answer the same, more slowly
        _log.debug("the server will not hold the status rule's functions: %s", err)
        _REFUSED.add(connection)
        return False
    _READY.add(connection)
    return True


# -- the answers --------------------------------------------------------------------------


def day_answers(store: PostgisStore, day: date) -> dict[str, StatusAnswer]:
    """Return every crossing's status on ``day``, asked of the server in one statement.

    The caller checks :func:`server_can_answer` first.
    """
    rows = store._rows(ANSWERS, {"day": day})
    records: dict[str, Observation] = {}
    heads: dict[str, tuple[Any, ...]] = {}
    for row in rows:
        heads.setdefault(row[0], row[1:10])
        if row[12] is not None and row[12] not in records:
            records[row[12]] = store._observation(row[10:])
    return {crossing: _answer(day, head, records) for crossing, head in heads.items()}


def _answer(day: date, head: tuple[Any, ...], records: dict[str, Observation]) -> StatusAnswer:
    """Build a status answer from what the server said of it and the records it names."""
    status, is_lifecycle, since, supporting, record, evidence, since_id, conflicts, plans = head
    return StatusAnswer(
        as_of=day,
        status=status,
        record=records.get(record) if record else None,
        since=since,
        since_record=records.get(since_id) if since_id else None,
        conflicts=tuple(records[i] for i in conflicts),
        is_lifecycle=bool(is_lifecycle),
        plans=tuple(records[i] for i in plans),
        evidence=records.get(evidence) if evidence else None,
        supporting=supporting,
    )


#: How long answers of a day fetched together wait for the sources of the other crossings: long
#: enough for one question over every crossing (tens of milliseconds), short enough that a
#: process kept open (a server) never shows what another process's write has changed since.
_KEPT_S = 0.5


class ServerSource:
    """A crossing's records as the status rule reads them on PostGIS (geo.status.RecordSource).

    A day's status asked of it before anything else was read through it is
    answered whole by the server, for every crossing at once: the others'
    answers wait in the store for their own sources, each handed out once
    (for half a second at most, and dropped by a write). Anything else
    (timelines, change days) reads through the indexes as
    :class:`~geo.store.source.StoreSource` does, and so does every question
    after the first such read.
    """

    def __init__(self, store: PostgisStore, crossing_id: str) -> None:
        self._store = store
        self._crossing = crossing_id
        self._reads: RecordSource | None = None

    def _source(self) -> RecordSource:
        if self._reads is None:  # the base class's source: the border's records read once
            self._reads = Store.status_source(self._store, self._crossing)
        return self._reads

    @property
    def temporaries(self) -> Sequence[Observation]:
        """Status records with ``until`` that name the crossing, in force."""
        return self._source().temporaries

    @property
    def lifecycle(self) -> Sequence[Observation]:
        """Records giving a lifecycle of the crossing's structures, in force, in rule order."""
        return self._source().lifecycle

    @property
    def plans(self) -> Sequence[Observation]:
        """Plans that name the crossing, in force."""
        return self._source().plans

    def latest(
        self, upto: date, *, below: tuple[date, date] | None = None, status: str | None = None
    ) -> Observation | None:
        """Return the last lasting record known by ``upto`` (see geo.status.RecordSource)."""
        return self._source().latest(upto, below=below, status=status)

    def best_per_status(self, end: date, start: date) -> dict[str, Observation]:
        """Return the last lasting record of each status of exactly these dates."""
        return self._source().best_per_status(end, start)

    def next_day(self, after: date) -> date | None:
        """Return the first day after ``after`` on which a lasting record counts."""
        return self._source().next_day(after)

    def answered(self, day: date, structure_ids: Sequence[str]) -> StatusAnswer | None:
        """Return the server's answer for ``day``, or None where the indexes must be read.

        None once anything was read through this source, when ``structure_ids``
        are not the crossing's structures (the server reads those), or when
        the server cannot run the rule.
        """
        if self._reads is not None:
            return None
        store = self._store
        owned = sorted(s.id for s in store.structures().values() if s.crossing_id == self._crossing)
        if sorted(structure_ids) != owned or not server_can_answer(store._connection):
            return None
        kept = store._day_answers.get(day)
        now = time.monotonic()
        if kept is None or self._crossing not in kept[1] or now - kept[0] > _KEPT_S:
            kept = (now, day_answers(store, day))
            store._day_answers[day] = kept
        return kept[1].pop(self._crossing, None)
