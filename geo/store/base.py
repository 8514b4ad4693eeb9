"""The interface of a store, and what every backend does the same way.

:class:`Store` lists what the commands and questions ask of a store; a backend
(``gpkg.py``, ``postgis.py``) implements it over its own connection, and
inherits here what is the same SQL in SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any

from geo.errors import (
    ConflictingRecordError,
    DuplicateRecordError,
    RecordValidationError,
    UnknownRecordError,
)
from geo.model import (
    BBox,
    Crossing,
    LonLat,
    Observation,
    Sighting,
    Structure,
    TradeFigure,
    differing_fields,
    identity,
)
from geo.status import RecordSource, can_change_status
from geo.store.periods import (
    PERIODS,
    PERIODS_FROM,
    PERIODS_SINCE,
    StatusPeriod,
    derive_periods,
    first_change,
    first_kept_day,
    read_periods,
    rows_from,
    status_changes,
)
from geo.store.schema import OBSERVATIONS, SCHEMA_VERSION, STRUCTURES, day_text
from geo.store.source import IndexBoxes, StoreSource

__all__ = ["Store", "WrittenIds"]


class WrittenIds:
    """The ids of the records a write stored, in the order written.

    Kept as one tuple per batch: a tuple of strings drops out of the cycle
    collector's view, where a list of them stays in it and is walked by every
    full collection. A load of 10,000,000 records spent minutes in those walks.
    """

    def __init__(self) -> None:
        self._batches: list[tuple[str, ...]] = []

    def add(self, ids: Iterable[str]) -> None:
        """Keep the ids of one batch."""
        self._batches.append(tuple(ids))

    def __bool__(self) -> bool:
        return any(self._batches)

    def as_list(self) -> list[str]:
        """Return every id kept, in order."""
        return [i for batch in self._batches for i in batch]


class Store:
    """An open crossings store. Use :func:`geo.store.open_store` with a path or a URL."""

    _border: list[Observation] | None
    _structures: dict[str, Structure] | None
    #: The crossings whose status periods the writes of the transaction under way may have
    #: changed, each with the first day they may have changed; and the records they replace.
    _periods_due: dict[str, date]
    _replaced_due: set[str]

    # What each backend implements -----------------------------------------------------

    def crossings(self) -> dict[str, Crossing]:
        """Return every crossing by id, in inventory order."""
        raise NotImplementedError

    def structures(self) -> dict[str, Structure]:
        """Return every structure (bridge, dam, gate) by id, in inventory order."""
        raise NotImplementedError

    def trade(self) -> list[TradeFigure]:
        """Return every trade figure, by period."""
        raise NotImplementedError

    def observations(
        self, crossing_id: str | None = None, *, include_border_wide: bool = True
    ) -> list[Observation]:
        """Return observations, oldest first: all, or a crossing's (and the border's)."""
        raise NotImplementedError

    def iter_observations(self) -> Iterator[Observation]:
        """Yield every observation in the order it was stored, so each after what it replaces."""
        raise NotImplementedError

    def observations_by_id(self, ids: Sequence[str]) -> list[Observation]:
        """Return the stored observations among ``ids`` (unknown ids are left out)."""
        raise NotImplementedError

    def index_boxes(
        self,
        boxes: Sequence[BBox],
        *,
        since: date | None = None,
        until: date | None = None,
        kind: str | None = None,
        source_type: str | None = None,
    ) -> IndexBoxes:
        """Return the spatial index's rows of the observations in any of ``boxes``."""
        raise NotImplementedError

    def fids_near(
        self,
        center: LonLat,
        distance_m: float,
        *,
        since: date | None = None,
        until: date | None = None,
        kind: str | None = None,
        source_type: str | None = None,
    ) -> list[int]:
        """Return the feature ids of observations that may lie within ``distance_m``.

        In file order; never fewer than those within ``distance_m`` of ``center``, a
        few more (measure them after). Filters as in :meth:`index_boxes`.
        """
        raise NotImplementedError

    def observations_by_fid(
        self, fids: Sequence[int], *, in_force: bool = False
    ) -> list[Observation]:
        """Return the observations with these feature ids, in the same order."""
        raise NotImplementedError

    def sightings_by_fid(self, fids: Sequence[int]) -> list[Sighting]:
        """Return light records of these feature ids in force, in the same order.

        Only the fields a list of nearby records shows are read (geo.model.Sighting).
        """
        raise NotImplementedError

    def add_crossings(self, crossings: Sequence[Crossing]) -> None:
        """Add crossings (validated, ids not yet stored) in one transaction."""
        raise NotImplementedError

    def add_structures(self, structures: Sequence[Structure]) -> None:
        """Add structures (validated, ids not yet stored) in one transaction."""
        raise NotImplementedError

    def add_trade(self, figures: Sequence[TradeFigure]) -> None:
        """Add trade figures (validated) in one transaction."""
        raise NotImplementedError

    def add_observations(
        self,
        records: Iterable[Observation],
        *,
        on_duplicate: str = "error",
        bulk: bool = False,
        expected_rows: int = 0,
    ) -> list[str]:
        """Add records in one transaction: all of them, or none if one is refused."""
        raise NotImplementedError

    def complete_observations(self, records: Sequence[Observation]) -> list[str]:
        """Fill the fields of a schema version that records stored before it lack.

        A stored record made before this store was migrated to a version (3 or
        later), whose fields of that version are all empty, gets them from the
        record of ``records`` with its id: nothing that was recorded is changed.
        Returns the ids completed. (A merge of the seed completes a migration.)
        """
        done: set[str] = set()
        stored = {o.id: o for o in self.observations_by_id([r.id for r in records])}
        with self._transaction():
            for version in range(3, SCHEMA_VERSION + 1):
                migrated = self.migrated_at(version)
                if migrated is None:  # built at this version or later: its records had them
                    continue
                names = [f.name for f in OBSERVATIONS.fields if f.since == version]
                sets = ", ".join(f'"{name}" = :{name}' for name in names)
                for record in records:
                    old = stored.get(record.id)
                    if old is None or old.recorded_at >= migrated:
                        continue
                    kept, new = self._fields_of(old, names), self._fields_of(record, names)
                    if any(kept.values()) or not any(new.values()):
                        continue
                    self._execute(f"UPDATE observations SET {sets} WHERE id = :id", {
                        **new, "id": record.id
                    })  # fmt: skip
                    done.add(record.id)
                    self._note_periods(record)  # its new fields may set a status
        self._border = None  # a completed border-wide record may now name crossings
        return [r.id for r in records if r.id in done]

    def complete_structures(self, structures: Sequence[Structure]) -> list[str]:
        """Fill the fields that a migration added to the structures (version 5 on), where empty.

        A stored structure gets such a field from the structure of ``structures``
        with its id only where the store's is empty; returns the ids completed.
        """
        names = [f.name for f in STRUCTURES.fields if f.since >= 5]
        stored = self.structures()
        done = []
        with self._transaction():
            for structure in structures:
                have = stored.get(structure.id)
                if have is None:
                    continue
                new = {
                    name: getattr(structure, name)
                    for name in names
                    if getattr(have, name) is None and getattr(structure, name) is not None
                }
                for name, value in new.items():
                    self._execute(
                        f'UPDATE structures SET "{name}" = :value WHERE id = :id',
                        {"value": value, "id": structure.id},
                    )
                if new:
                    done.append(structure.id)
        self._structures = None
        return done

    # The status periods: kept by every write, in its transaction ------------------------

    def status_periods(self, crossing_id: str | None = None) -> list[StatusPeriod]:
        """Return the status periods layer's rows: every crossing's, or one's, in time order.

        Each row is a status the rule gives from ``start`` up to the day before
        ``end`` (None: it lasts), with the record it is best checked on; a
        crossing's periods follow each other without a gap (see
        :mod:`geo.store.periods`).
        """
        where = " WHERE crossing_id = :crossing" if crossing_id is not None else ""
        rows = self._query(f'{PERIODS}{where} ORDER BY crossing_id, "start"', {
            "crossing": crossing_id
        })  # fmt: skip
        return read_periods(rows)

    def refresh_status_periods(self, crossing_ids: Iterable[str] | None = None) -> None:
        """Derive the status periods anew, of every crossing or of these, in one transaction.

        Every write keeps them true by itself; this is for records another
        tool changed in the store.
        """
        with self._transaction():
            for crossing_id in self.crossings() if crossing_ids is None else crossing_ids:
                self._periods_from(crossing_id, date.min)

    def _forget_periods(self) -> None:
        """Forget what the writes of a transaction that did not commit would have changed."""
        self._periods_due, self._replaced_due = {}, set()

    def _periods_from(self, crossing_id: str, day: date) -> None:
        """Note that a crossing's status periods may change from ``day`` on."""
        known = self._periods_due.get(crossing_id)
        if known is None or day < known:
            self._periods_due[crossing_id] = day

    def _note_periods(self, record: Observation) -> None:
        """Note the crossings a record written may change the status of, and from when.

        A record counts from the last day its date can mean; a record it
        replaces stops counting (from its own last day, found when the
        transaction ends).
        """
        if not can_change_status(record):  # most records: traffic, context, plans
            return
        changed = status_changes([record], self.crossings(), self.structures())
        for crossing_id, day in changed.items():
            self._periods_from(crossing_id, day)
        if record.replaces is not None:
            self._replaced_due.add(record.replaces)

    def _settle_periods(self) -> None:
        """Derive anew the periods of the crossings the transaction's writes touched.

        Called by each backend as its outermost transaction ends, before it
        commits: the periods commit with the records they derive from, or
        neither does. Only the touched crossings, and only from the first
        day a write may have changed: the periods before it are kept.
        """
        if self._replaced_due:
            replaced = self.observations_by_id(sorted(self._replaced_due))
            for crossing_id, day in status_changes(
                replaced, self.crossings(), self.structures()
            ).items():
                self._periods_from(crossing_id, day)
            self._replaced_due = set()
        if not self._periods_due:
            return
        due, self._periods_due = self._periods_due, {}
        crossings = self.crossings()
        owned: dict[str, list[str]] = {}
        for structure in self.structures().values():
            owned.setdefault(structure.crossing_id, []).append(structure.id)
        for crossing_id, changed in sorted(due.items()):
            crossing = crossings.get(crossing_id)
            if crossing is not None:
                self._rewrite_periods(crossing, owned.get(crossing_id, []), changed)

    def _rewrite_periods(self, crossing: Crossing, structure_ids: list[str], changed: date) -> None:
        """Derive a crossing's periods from the day a write may have changed them on.

        Only the periods that differ from the stored ones are rewritten: a write
        that changes no status (a record a later one outranks, say) leaves them.
        """
        since, kept = first_kept_day(self, crossing.id, changed)
        runs = derive_periods(self, crossing.id, structure_ids, since, kept)
        rows = rows_from(self, crossing.id, since, runs)
        params = {"crossing": crossing.id, "day": since.isoformat()}
        stored = self._query(PERIODS_SINCE, params)
        first = first_change(stored, rows)
        if first is None:
            return
        if first < len(stored):
            params["day"] = day_text(stored[first][0])
            self._execute(PERIODS_FROM, params)
        self._insert_periods(crossing, rows[first:])

    def _insert_periods(
        self, crossing: Crossing, rows: Sequence[tuple[date, date | None, tuple[object, ...]]]
    ) -> None:
        """Write a crossing's periods (start, end, what each says) at its point."""
        raise NotImplementedError

    def _fields_of(self, record: Observation, names: Sequence[str]) -> dict[str, object]:
        """Return some fields of a record's row, as this backend stores them."""
        row = dict(zip(OBSERVATIONS.names, self._row_values(record), strict=True))
        return {name: row[name] for name in names}

    def _row_values(self, record: Observation) -> Sequence[object]:
        """Return the values of a record's row (geometry apart), as this backend stores them."""
        raise NotImplementedError

    def _execute(self, sql: str, params: Mapping[str, object]) -> None:
        """Run one statement that answers nothing (``:name`` parameters), in the transaction."""
        raise NotImplementedError

    def migrated_at(self, version: int) -> datetime | None:
        """Return when this store was migrated to ``version`` (None: built at it or later)."""
        raise NotImplementedError

    def write_status_snapshot(
        self, statuses: Iterable[tuple[str, str | None, str | None, str | None]], as_of: date
    ) -> None:
        """Store each crossing's ``(id, status, since, source)`` on ``as_of``, for GIS styling."""
        raise NotImplementedError

    def status_snapshot_day(self, crossing_id: str) -> date | None:
        """Return the day a crossing's status snapshot was computed (None: never)."""
        raise NotImplementedError

    def crossings_frame(self) -> Any:
        """Return the crossings as a GeoDataFrame (EPSG:4326)."""
        raise NotImplementedError

    def observations_frame(self, crossing_id: str | None = None) -> Any:
        """Return observations as a GeoDataFrame, with real date columns, oldest first."""
        raise NotImplementedError

    def trade_frame(self) -> Any:
        """Return the trade figures as a DataFrame, by period."""
        raise NotImplementedError

    def integrity_problems(self) -> list[str]:
        """Return what is wrong with the store (empty: nothing)."""
        raise NotImplementedError

    # What is the same in every backend ------------------------------------------------

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store's connection (each backend closes its own)."""
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[object]:
        """Return a context in which every write of this store commits together, or none."""
        return self._transaction()

    def _query(self, sql: str, params: Mapping[str, object]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    #: The select list of an observation row, as the backend's ``_decode`` reads it.
    _COLUMNS: str

    def _decode(self, rows: list[tuple[Any, ...]]) -> list[Observation]:
        raise NotImplementedError

    def _select(
        self,
        where: str | Sequence[str],
        params: Mapping[str, object],
        *,
        order: bool = False,
        limit: int = 0,
    ) -> list[Observation]:
        """Return the observations in force (not replaced) that match ``where``.

        Several conditions are asked in one query (one round trip to a database
        server), each with its own order and limit, their answers one after another.
        """
        parts = []
        for condition in [where] if isinstance(where, str) else where:
            sql = (
                f"SELECT {self._COLUMNS} FROM observations o WHERE {condition} "
                "AND NOT EXISTS (SELECT 1 FROM observations r WHERE r.replaces = o.id)"
            )
            if order:  # the rule's order, newest first, as the lasting indexes hold it
                sql += (
                    " ORDER BY date_end DESC, date_start DESC, (source_url IS NOT NULL) DESC, "
                    "id DESC"
                )
            if limit:
                sql += f" LIMIT {int(limit)}"
            parts.append(sql)
        if len(parts) > 1:
            sql = " UNION ALL ".join(f"SELECT * FROM ({p}) AS part{n}" for n, p in enumerate(parts))
        return self._decode(self._query(sql, params))

    def observation(self, observation_id: str) -> Observation | None:
        """Return one observation by id, or None."""
        raise NotImplementedError

    def count(self, layer: str = "observations", *, at_most: int | None = None) -> int:
        """Return the number of rows in a layer; with ``at_most``, counting stops there.

        A question that only needs to know whether a layer holds more than a few
        rows asks ``at_most``: it reads that many, not the whole layer.
        """
        if layer not in ("crossings", "observations", "trade"):
            raise ValueError(f"layer={layer!r}: must be one of crossings, observations, trade")
        if at_most is None:
            return int(self._query(f"SELECT count(*) FROM {layer}", {})[0][0])
        sql = f"SELECT count(*) FROM (SELECT 1 FROM {layer} LIMIT :most) AS first_rows"
        return int(self._query(sql, {"most": max(0, int(at_most))})[0][0])

    def status_source(self, crossing_id: str) -> RecordSource:
        """Return what the status rule reads of a crossing, through this store's indexes.

        See :func:`geo.status.evaluate`: the answer reads the deciding record,
        one record per status of its dates, and a few more, whatever the size
        of the store.
        """
        if self._border is None:
            # Records of the whole border are few: read once, then shared by every crossing.
            self._border = self._select("crossing_id IS NULL AND kind IN ('status', 'plan')", {})
        return StoreSource(self, crossing_id)

    def _refuse_duplicate(self, record: Observation, on_duplicate: str) -> None:
        """Say why ``record`` was not stored: its id is taken (return if duplicates are skipped).

        Only a true duplicate, the same in every field but when and by whom it
        was recorded, is skipped; one that says something else is a conflict.
        """
        stored = self.observation(record.id)
        if stored is not None and identity(stored) != identity(record):
            raise RecordValidationError(
                "id",
                record.id,
                "is the id of another stored record (two contents, one 10-digit hash): "
                f"{stored.crossing_id or 'border'} {stored.date.text} {stored.summary[:40]!r}",
                "a record whose derived id no stored record has",
                "reword the summary slightly; the record is not a duplicate",
            )
        if stored is not None and (differences := differing_fields(record, stored)):
            raise ConflictingRecordError(record.id, "a stored record", differences)
        if on_duplicate == "ignore":
            return
        raise DuplicateRecordError(
            "observation",
            record.id,
            "is already in the store (same crossing, date, kind, summary and source)",
            "a record not yet stored",
            "drop it, or pass --ignore to skip duplicates",
        )

    def _check_replaces(self, record: Observation) -> None:
        # Records of this transaction are visible to it: a load may correct its own rows.
        target = self.observation(record.replaces or "")
        if target is None:
            raise UnknownRecordError(
                "replaces",
                record.replaces,
                "is not an observation in the store",
                "the id of an existing record",
                "copy the id from `crossings show ID`",
            )
        if target.crossing_id != record.crossing_id:
            raise RecordValidationError(
                "replaces",
                record.replaces,
                f"belongs to {target.crossing_id or 'the whole border'}, not "
                f"{record.crossing_id or 'the whole border'}",
                "a record of the same crossing",
                "check the crossing id or the record id",
            )

    def _reference_problems(self) -> list[str]:
        """Say where a record names a crossing, structure or record the store lacks."""
        checks = (
            (
                (
                    "SELECT id, crossing_id FROM observations WHERE crossing_id IS NOT NULL "
                    "AND crossing_id NOT IN (SELECT id FROM crossings)"
                ),
                "observation {}: crossing_id {!r} is not in the crossings layer",
            ),
            (
                (
                    "SELECT id, structure_id FROM observations WHERE structure_id IS NOT NULL "
                    "AND structure_id NOT IN (SELECT id FROM structures)"
                ),
                "observation {}: structure_id {!r} is not in the structures layer",
            ),
            (
                (
                    "SELECT id, crossing_id FROM structures WHERE crossing_id NOT IN "
                    "(SELECT id FROM crossings)"
                ),
                "structure {}: crossing_id {!r} is not in the crossings layer",
            ),
            (
                (
                    "SELECT id, replaces FROM observations WHERE replaces IS NOT NULL "
                    "AND replaces NOT IN (SELECT id FROM observations)"
                ),
                "observation {}: replaces {!r}, which is not in the store",
            ),
        )
        return [message.format(*row) for sql, message in checks for row in self._query(sql, {})]
