"""Every crossing's status over time, kept by a process that answers many questions.

The status rule reads a few records a crossing through the store's indexes for
each day asked (:func:`geo.status.evaluate`). A server asked the status of
every crossing on any day, many times a second, reads each crossing's timeline
once instead (:func:`geo.status.source_timeline`): an answer on any day is then
a lookup in it (:func:`geo.status.answer_on`), the same answer.

Before each answer the store is asked, in one query, what has changed:

- records added (by this process, another one, or ``crossings observe``) are
  read, and only the timelines of the crossings they concern are continued,
  from the first day they count: the status before it is as it was;
- anything else (a crossing, a structure or a trade figure added, a row
  changed or deleted in place by another program, which the store's edit marks
  count, see geo.store.edits; the file replaced) reads every timeline again.

Each crossing also has a count of the changes to what its page shows, so a
page is drawn again only when its own records change.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from geo.inventory import owned_structures
from geo.status import StatusAnswer, StatusStep, answer_on, source_timeline
from geo.store import is_database, open_store
from geo.store.digest import first_day
from geo.store.edits import EDITS_TOTAL, edit_marks_counted, has_edit_marks
from geo.store.gpkg import change_counter
from geo.store.periods import status_changes

if TYPE_CHECKING:
    from geo.model import Crossing, Observation, Structure, TradeFigure
    from geo.store import Store

__all__ = ["KeptTimelines", "StatusKeeper"]

_log = logging.getLogger(__name__)

#: More records than this added at once (an import) read every timeline again.
CONTINUE_AT_MOST = 5_000

#: What changes when the other layers do, and the last record added.
_FRAME = (
    "SELECT (SELECT max(fid) FROM crossings), (SELECT max(fid) FROM structures), "
    f"(SELECT max(fid) FROM trade), ({EDITS_TOTAL}), (SELECT max(fid) FROM observations)"
)
#: The same of a GeoPackage, after its schema cookie (SQLite changes it with any table or trigger).
_FRAME_FILE = _FRAME.replace(
    "SELECT ", "SELECT (SELECT schema_version FROM pragma_schema_version), ", 1
)


@dataclass(frozen=True)
class KeptTimelines:
    """What a process keeps of a store: each crossing's timeline, plans and page count."""

    crossings: Mapping[str, Crossing]
    structures: Mapping[str, Structure]
    steps: Mapping[str, list[StatusStep]]
    plans: Mapping[str, tuple[Observation, ...]]
    #: The other layers' last rows, the edits in place counted, the file (a GeoPackage's).
    frame: tuple[object, ...]
    last_record: int
    #: Changes to what each crossing's page shows since ``epoch`` began.
    changes: Mapping[str, int] = field(default_factory=dict)
    epoch: int = 0
    #: The first day of any record of the crossings or the whole border (the maps' start).
    first_day: date | None = None
    #: The trade figures (the frame counts their changes: they are as current as it is).
    trade: tuple[TradeFigure, ...] = ()

    def answer(self, crossing_id: str, day: date) -> StatusAnswer:
        """Return a crossing's status on ``day``, as :func:`geo.status.evaluate` gives it."""
        return answer_on(self.steps[crossing_id], self.plans[crossing_id], day)

    def answers(self, day: date) -> list[tuple[Crossing, StatusAnswer]]:
        """Return every crossing with its status on ``day``, in the store's order."""
        return [(crossing, self.answer(cid, day)) for cid, crossing in self.crossings.items()]

    def page_version(self, crossing_id: str | None) -> tuple[int, int]:
        """Return what changes when a crossing's page does (None: the overview, any change)."""
        if crossing_id is None:
            return self.epoch, sum(self.changes.values())
        return self.epoch, self.changes.get(crossing_id, 0)


class StatusKeeper:
    """The kept timelines of one store, brought up to date before each answer.

    It keeps one connection of its own open to ask what changed, many times a
    second (opening the store costs more than the question); it opens the
    store again to read what did.
    """

    def __init__(self, store: str, *, page_box_deg: float = 0.0) -> None:
        self.store = store
        #: A record this near a crossing's point (in degrees of longitude and of latitude)
        #: changes its page too: a page counts the records around it.
        self.page_box_deg = page_box_deg
        self._kept: KeptTimelines | None = None
        self._lock = threading.Lock()
        self._epochs = 0
        self._warned = False
        self._watch: Store | None = None  # a database's
        self._local = threading.local()  # a GeoPackage's: one connection a thread
        self._watches: list[Store] = []  # every one, to close
        #: The schema cookie each GeoPackage connection last found the edit marks at.
        self._marks: dict[int, object] = {}
        self._watch_lock = threading.Lock()
        #: A database's looks, shared: each request needs a look begun after it came, and
        #: one look serves every request that came before it began (see _look_together).
        self._looks = threading.Condition()
        self._arrived = 0  # requests that came for a look so far
        self._covered = 0  # of them, those the last look began after
        self._looking = False
        self._last_look: tuple[tuple[object, ...], int] | None = None
        #: A GeoPackage's file, open to read its change counter.
        self._header: tuple[tuple[int, int], int] | None = None
        #: A GeoPackage's last look, and the file and change counter it was taken at.
        self._seen: tuple[tuple[object, ...], tuple[tuple[object, ...], int] | None] | None = None

    def current(self, seen: tuple[tuple[object, ...], int] | None = None) -> KeptTimelines | None:
        """Return the timelines as the store is now.

        None where the store does not count its edits in place (see
        geo.store.edits): what was read could not be known to be current.
        ``seen``: what another keeper of the store found it was, a moment ago
        (a server's, given to the process that draws its pages): the timelines
        are brought that far without asking the store again.
        """
        looked = seen if seen is not None else self._look()
        if looked is None:
            if self._kept is not None or not self._warned:
                _log.warning("%s: no edit marks: every answer is read afresh", self.store)
                self._kept, self._warned = None, True
            return None
        frame, last = looked
        kept = self._kept
        if kept is not None and self._unchanged(kept, frame, last):
            return kept
        with self._lock:  # one reading at a time; the others then find it done
            kept = self._kept
            if kept is not None and self._unchanged(kept, frame, last):
                return kept
            with open_store(self.store) as opened:
                if kept is not None and self._continues(kept, frame, last):
                    kept = _continued(opened, kept, frame, last, self.page_box_deg)
                else:
                    self._epochs += 1
                    kept = _read(opened, frame, last, self._epochs)
            self._kept = kept
        return kept

    def _look(self) -> tuple[tuple[object, ...], int] | None:
        """Return what changes with the store (the last record apart), and its last record.

        None if the store does not count its edits in place. A GeoPackage is
        asked on a connection of the calling thread's own (a lock shared by a
        server's threads would make each wait for the others); a database on
        one connection of the keeper's.
        """
        file = None
        if not is_database(self.store):  # the file itself, replaced by another
            info = Path(self.store).stat()
            file = (info.st_dev, info.st_ino)
            # Read before asking: a write committed meanwhile changes it for the next look.
            stamp = (file, change_counter(self._header_of(file)))
            seen = self._seen
            if seen is not None and seen[0] == stamp and stamp[1] is not None:
                return seen[1]  # no write committed since that look
            watch = self._watch_of_thread(file)
            looked = self._ask(watch, file, lambda: self._local.__dict__.pop("watch", None))
            self._seen = (stamp, looked)
            return looked
        return self._look_together()

    def _look_together(self) -> tuple[tuple[object, ...], int] | None:
        """Ask a database what changed, once for every request waiting meanwhile.

        A request is answered by a look begun after it came, so it sees every
        write committed before it: by this process, another one or another
        program. Requests that come while a look is under way wait for the next
        one, which one of them asks for all: one round trip, not one a request
        in a queue behind the keeper's connection.
        """
        with self._looks:
            self._arrived += 1
            ticket = self._arrived
            while self._looking:
                self._looks.wait()
            if self._covered >= ticket:  # a look begun after this request came
                return self._last_look
            self._looking = True
            covered = self._arrived
        looked = None
        try:
            with self._watch_lock:
                if self._watch is None:
                    self._watch = open_store(self.store)
                    self._watches.append(self._watch)
                looked = self._ask(self._watch, None, self._forget_shared)
        except BaseException:
            covered = -1  # the waiting requests ask again, and fail for themselves
            raise
        finally:
            with self._looks:
                self._looking = False
                if covered >= 0:
                    self._covered, self._last_look = covered, looked
                self._looks.notify_all()
        return looked

    def _header_of(self, file: tuple[int, int]) -> int:
        """Return a descriptor of the store's file as it is now (opened again if replaced)."""
        with self._watch_lock:
            if self._header is None or self._header[0] != file:
                if self._header is not None:
                    os.close(self._header[1])
                self._header = (file, os.open(self.store, os.O_RDONLY))
            return self._header[1]

    def _watch_of_thread(self, file: tuple[int, int]) -> Store:
        kept = getattr(self._local, "watch", None)
        if kept is not None and kept[1] == file:
            return kept[0]  # type: ignore[no-any-return]
        if kept is not None:  # the file was replaced: its connection reads the old one
            self._marks.pop(id(kept[0]), None)
            kept[0].close()
        watch = open_store(self.store)
        self._local.watch = (watch, file)
        with self._watch_lock:
            self._watches.append(watch)
        return watch

    def _forget_shared(self) -> None:
        self._watch = None

    def _ask(
        self, watch: Store, file: tuple[int, int] | None, forget: Callable[[], object]
    ) -> tuple[tuple[object, ...], int] | None:
        """Ask one connection what changed: one query, once the edit marks are known there.

        A GeoPackage's schema cookie is asked with it: the marks are looked for again
        whenever the file's tables or triggers change. A database's marks are
        counted in the same query (its schema has no such cookie).
        """
        marks = self._marks.get(id(watch))
        try:
            if file is None:  # a database: once its marks are known, counted with the frame
                if marks is None:
                    if not has_edit_marks(watch):
                        return None
                    self._marks[id(watch)] = True
                counted, wanted = edit_marks_counted(watch)
                sql = _FRAME.replace("SELECT ", f"SELECT ({counted}), ", 1)
                marked, *frame, last = watch._query(sql, {})[0]
                if int(marked) != wanted:  # dropped since: nothing can be kept
                    self._marks.pop(id(watch), None)
                    return None
            else:
                if marks is None and not has_edit_marks(watch):
                    return None
                cookie, *frame, last = watch._query(_FRAME_FILE, {})[0]
                if marks is not None and cookie != marks and not has_edit_marks(watch):
                    return None
                self._marks[id(watch)] = cookie
        except BaseException:
            self._marks.pop(id(watch), None)
            watch.close()  # opened again at the next question
            forget()
            raise
        return (*(file or ()), *frame), int(last or 0)

    def close(self) -> None:
        """Close the connections kept to ask what changed."""
        with self._watch_lock:
            for watch in self._watches:
                watch.close()
            self._watches, self._watch = [], None
            if self._header is not None:
                os.close(self._header[1])
                self._header = None
        self._local = threading.local()

    @staticmethod
    def _unchanged(kept: KeptTimelines, frame: tuple[object, ...], last: int) -> bool:
        """Whether what is kept is as new as the look: the same, or a later record read.

        Each thread looks on its own connection: a look taken before another
        thread's, which has kept a record added since, finds an earlier last
        record. Records are only added while the frame stays (a deletion
        changes the edit marks), so what is kept holds all that look saw.
        """
        return kept.frame == frame and kept.last_record >= last

    @staticmethod
    def _continues(kept: KeptTimelines, frame: tuple[object, ...], last: int) -> bool:
        """Whether records were only added: nothing else changed, and there are new fids."""
        return (
            kept.frame == frame and kept.last_record < last <= kept.last_record + CONTINUE_AT_MOST
        )


def _read(opened: Store, frame: tuple[object, ...], last: int, epoch: int) -> KeptTimelines:
    """Read every crossing's timeline and plans."""
    crossings, structures = opened.crossings(), opened.structures()
    owned = owned_structures(structures.values())
    steps, plans = {}, {}
    for crossing_id in crossings:
        source = opened.status_source(crossing_id)
        steps[crossing_id] = source_timeline(
            source, until=date.max, structure_ids=owned.get(crossing_id, ())
        )
        plans[crossing_id] = tuple(source.plans)
    first = first_day(opened, list(crossings))
    return KeptTimelines(
        crossings,
        structures,
        steps,
        plans,
        frame,
        last,
        epoch=epoch,
        first_day=first,
        trade=tuple(opened.trade()),
    )


def _continued(
    opened: Store, kept: KeptTimelines, frame: tuple[object, ...], last: int, box_deg: float
) -> KeptTimelines:
    """Continue the timelines of the crossings the records added since concern."""
    fids = [row[0] for row in opened._query(
        "SELECT fid FROM observations WHERE fid > :seen AND fid <= :last ORDER BY fid",
        {"seen": kept.last_record, "last": last},
    )]  # fmt: skip
    added = opened.observations_by_fid(fids)
    replaced = opened.observations_by_id(sorted({r.replaces for r in added if r.replaces}))
    touched = _pages_touched([*added, *replaced], kept, box_deg)
    since = status_changes([*added, *replaced], kept.crossings, kept.structures)
    owned = owned_structures(kept.structures.values())
    steps, plans = dict(kept.steps), dict(kept.plans)
    for crossing_id in touched:
        source = opened.status_source(crossing_id)
        plans[crossing_id] = tuple(source.plans)
        if crossing_id in since:
            steps[crossing_id] = source_timeline(
                source,
                until=date.max,
                structure_ids=owned.get(crossing_id, ()),
                kept=kept.steps[crossing_id],
                since=since[crossing_id],
            )
    changes = {cid: kept.changes.get(cid, 0) + (cid in touched) for cid in kept.crossings}
    # Records were only added: the first day can only come earlier, with one of them.
    starts = [
        r.date.start for r in added if r.crossing_id is None or r.crossing_id in kept.crossings
    ]
    first = min(filter(None, [kept.first_day, *starts]), default=None)
    return KeptTimelines(
        kept.crossings,
        kept.structures,
        steps,
        plans,
        frame,
        last,
        changes,
        kept.epoch,
        first,
        kept.trade,
    )


def _pages_touched(records: list[Observation], kept: KeptTimelines, box_deg: float) -> list[str]:
    """Return the crossings whose pages these records change: every one for the whole border's.

    A crossing's own records, its structures', and those at a point within
    ``box_deg`` of it.
    """
    found: set[str] = set()
    for record in records:
        if record.crossing_id is None:
            return list(kept.crossings)
        found.add(record.crossing_id)
        structure = kept.structures.get(record.structure_id or "")
        if structure is not None:
            found.add(structure.crossing_id)
        point = record.location
        if point is not None:
            found.update(
                crossing.id
                for crossing in kept.crossings.values()
                if crossing.location is not None
                and abs(crossing.location.lon - point.lon) <= box_deg
                and abs(crossing.location.lat - point.lat) <= box_deg
            )
    return [cid for cid in kept.crossings if cid in found]
