"""`crossings serve` as a client sees it: sessions, forms and their tokens, roles, hostile input.

Starlette's test client drives the application in this process; every refusal is
checked to have written nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import warnings
from unittest import mock

import pytest
from itsdangerous import URLSafeTimedSerializer

from geo.store import open_store
from geo.team import LOGIN_REFUSED, disable_user, proposals, propose
from geo.web.app import Settings, create_app
from geo.web.session import COOKIE
from tests.common import PAYLOADS
from tests.test_team import CLOSING, PASSWORD, team_of, team_rows

with warnings.catch_warnings():  # Starlette asks for httpx2, which is not packaged yet
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

SECRET = b"a test secret that is long enough to sign sessions"
ROLES = ("anonymous", "reader", "contributor", "reviewer", "admin")
NAMES = {"reader": "rita", "contributor": "cora", "reviewer": "rev", "admin": "ada"}
#: Texts that must never reach a page as markup.
MARKUP = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
SQL = ["' OR '1'='1", "x'; DROP TABLE team_users; --", '" OR 1=1 --', "1) UNION SELECT 1 --"]


class Client:
    """A browser's session with the application: its cookie, and the forms' token."""

    def __init__(self, store: str, **settings) -> None:
        self.store = store
        app = create_app(Settings(store=store, secret=SECRET, **settings))
        self.http = TestClient(app, follow_redirects=False)

    def token(self, path: str = "/login") -> str:
        page = self.http.get(path)
        return re.search(r'name="csrf" value="([^"]+)"', page.text)[1]

    def login(self, name: str, password: str = PASSWORD):
        return self.http.post(
            "/login", data={"csrf": self.token(), "name": name, "password": password, "next": "/"}
        )

    def post(self, path: str, data: dict, *, token: str | None = None):
        form = dict(data)
        if token != "":
            form["csrf"] = token or self.token()
        return self.http.post(path, data=form)

    def text_everywhere(self) -> str:
        """Every page a reader or reviewer reads proposals and the log on, as served."""
        data = self.http.get("/proposals.json")  # JSON, never read as a page
        assert data.headers["content-type"] == "application/json"
        return "".join(self.http.get(path).text for path in ("/review", "/activity"))


@pytest.fixture
def team(store) -> str:
    team_of(str(store))
    return str(store)


def as_role(store: str, role: str, **settings) -> Client:
    client = Client(store, **settings)
    if role != "anonymous":
        assert client.login(NAMES[role]).status_code == 303
    return client


def waiting(store: str) -> str:
    """Propose the closing record as the contributor; return the proposal's id."""
    with open_store(store, writable=True) as opened:
        return propose(opened, CLOSING, user="cora").id


def test_every_response_carries_the_security_headers(team: str):
    client = Client(team)
    for path in ("/", "/login", "/activity", "/static/web.js", "/no-such-page", "/review"):
        answer = client.http.get(path)
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert "Traceback" not in answer.text
    overview = client.http.get("/")
    script_src = re.search(r"script-src ([^;]+)", overview.headers["content-security-policy"])[1]
    assert "'unsafe-inline'" not in script_src and "'sha256-" in script_src
    assert "cdn.jsdelivr.net" not in overview.text  # its scripts come from this server
    cookie = Client(team).http.get("/login").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_the_server_listens_on_this_machine_only_by_default():
    from geo.cli.serve import serve_command

    assert next(p for p in serve_command.params if p.name == "host").default == "127.0.0.1"


def test_a_record_accepted_shows_at_the_next_load(team: str):
    contributor, reviewer = as_role(team, "contributor"), as_role(team, "reviewer")
    proposed = contributor.post("/records/new", CLOSING)
    assert proposed.status_code == 303
    proposal_id = proposed.headers["location"].rsplit("/", 1)[1]
    with open_store(team) as opened:
        record_id = proposals(opened)[0].record_id
    assert record_id not in reviewer.http.get("/quanhe-wonjong.html").text  # not a record yet
    accepted = reviewer.post(f"/review/{proposal_id}/accept", {}, token=reviewer.token("/review"))
    assert accepted.status_code == 303
    assert record_id in reviewer.http.get("/quanhe-wonjong.html").text
    log = reviewer.http.get(f"/activity/record/{record_id}").text
    assert "proposal accepted" in log and "record proposed" in log


def test_a_refused_form_keeps_every_value_and_names_each_bad_field(team: str):
    client = as_role(team, "contributor")
    before = team_rows(team)
    answer = client.post("/records/new", {**CLOSING, "date": "2026-13", "at": "91, 130"})
    assert answer.status_code == 422
    assert set(re.findall(r'id="(\w+)-error"', answer.text)) == {"date", "at"}
    assert "has no month 13" in answer.text
    assert 'value="2026-13"' in answer.text and "Customs closed for inspection" in answer.text
    assert team_rows(team) == before


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if "<" in p])
def test_markup_in_every_field_is_stored_and_shown_as_text(team: str, payload: str):
    contributor, reviewer = as_role(team, "contributor"), as_role(team, "reviewer")
    fields = {
        name: value for name, value in CLOSING.items() if name not in ("summary", "source_quote")
    }
    for field in ("summary", "source_name", "source_detail", "notes", "source_quote", "quote_en"):
        answer = contributor.post("/records/new", {**fields, "summary": f"{field} {payload}",
                                                   field if field != "summary" else "x": payload,
                                                   "source_quote": "words"})  # fmt: skip
        assert answer.status_code == 303, answer.text
    # Fields whose rules refuse markup: the error repeats the value, as text.
    for field in ("date", "crossing_id", "kind", "status", "at", "source_url", "replaces",
                  "until", "structure_id", "side", "source_type", "applies_to"):  # fmt: skip
        answer = contributor.post("/records/new", {**CLOSING, field: payload})
        assert answer.status_code in (303, 422)
        assert not any(bad in answer.text for bad in MARKUP), field
    shown = reviewer.text_everywhere() + contributor.login("<script>alert(1)</script>").text
    assert not any(bad in shown for bad in MARKUP)
    assert "&lt;" in shown
    for item in proposals(open_store(team)):
        page = reviewer.http.get(f"/proposals/{item.id}").text
        assert not any(bad in page for bad in MARKUP)


def test_a_form_without_or_with_a_stale_token_changes_nothing(team: str):
    proposal_id = waiting(team)
    client = as_role(team, "reviewer")
    stale = client.token("/review")
    assert client.login("rev").status_code == 303  # signing in again: a new token
    before = team_rows(team)
    for token in ("", stale, "forged-token"):
        for path, data in (
            ("/records/new", CLOSING),
            (f"/review/{proposal_id}/accept", {}),
            (f"/review/{proposal_id}/reject", {"reason": "no"}),
            ("/logout", {}),
            ("/login", {"name": "rev", "password": PASSWORD}),
        ):
            answer = client.post(path, data, token=token)
            assert answer.status_code == 403, (path, token)
            assert "nothing was changed" in answer.text
    assert team_rows(team) == before
    assert client.http.get("/review").status_code == 200  # still signed in


#: Who may do what: (role, action) -> allowed.
ALLOWED = {
    "read": {"anonymous", "reader", "contributor", "reviewer", "admin"},
    "propose": {"contributor", "reviewer", "admin"},
    "review": {"reviewer", "admin"},
}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_every_action(team: str, role: str):
    proposal_id = waiting(team)
    client = as_role(team, role)
    for path in ("/", "/activity", "/proposals.json", f"/proposals/{proposal_id}"):
        assert client.http.get(path).status_code == 200
    form = client.http.get("/records/new")
    review = client.http.get("/review")
    assert (form.status_code == 200) == (role in ALLOWED["propose"])
    assert (review.status_code == 200) == (role in ALLOWED["review"])
    if role == "anonymous":
        assert form.headers["location"].startswith("/login?next=")
    before = team_rows(team)
    token = client.token()
    proposed = client.post("/records/new", {**CLOSING, "summary": "Another"}, token=token)
    assert (proposed.status_code == 303) == (role in ALLOWED["propose"])
    if role not in ALLOWED["propose"]:
        assert team_rows(team) == before
    before = team_rows(team)
    rejected = client.post(f"/review/{proposal_id}/reject", {"reason": "x"}, token=token)
    accepted = client.post(f"/review/{proposal_id}/accept", {}, token=token)
    if role in ALLOWED["review"]:
        assert rejected.status_code == 303 and accepted.status_code == 409
    else:
        assert rejected.status_code in (401, 403) and accepted.status_code in (401, 403)
        assert team_rows(team) == before


def test_nobody_acts_for_someone_else(team: str):
    client = as_role(team, "contributor")
    answer = client.post(
        "/records/new", {**CLOSING, "recorded_by": "ada", "proposed_by": "ada", "user": "ada"}
    )
    assert answer.status_code == 303
    with open_store(team) as opened:
        (made,) = proposals(opened)
    assert made.proposed_by == "cora" and "recorded_by" not in made.fields


def test_readers_need_login_when_asked(team: str):
    client = Client(team, readers_need_login=True)
    for path in ("/", "/activity", "/proposals.json", "/api/crossings", "/quanhe-wonjong.html"):
        answer = client.http.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert client.http.get("/login").status_code == 200
    assert client.http.get("/static/web.css").status_code == 200
    assert client.login("rita").status_code == 303
    assert client.http.get("/activity").status_code == 200


def test_a_forged_an_expired_or_a_disabled_session_is_nobody(team: str):
    client = as_role(team, "reviewer")
    assert client.http.get("/review").status_code == 200
    forged = URLSafeTimedSerializer(
        b"another secret entirely, of some length", salt="crossings-session"
    )
    client.http.cookies.set(COOKIE, forged.dumps({"u": "rev", "c": "t"}))
    assert client.http.get("/review").status_code == 303
    ours = URLSafeTimedSerializer(SECRET, salt="crossings-session")
    with mock.patch("itsdangerous.timed.time.time", return_value=time.time() - 13 * 3600):
        expired = ours.dumps({"u": "rev", "c": "t"})
    client.http.cookies.set(COOKIE, expired)
    assert client.http.get("/review").status_code == 303
    client.http.cookies.set(COOKIE, "not-even-signed")
    assert client.http.get("/review").status_code == 303
    client = as_role(team, "reviewer")
    with open_store(team, writable=True) as opened:
        disable_user(opened, "rev", actor="console:test")
    assert client.http.get("/review").status_code == 303  # out at its next request


def test_twenty_wrong_passwords_then_the_right_one_is_refused(team: str):
    client = Client(team)
    for _ in range(20):
        answer = client.login("cora", "not the password")
        assert answer.status_code == 401
        assert LOGIN_REFUSED.split(",")[0] in answer.text
    answer = client.login("cora")
    assert answer.status_code == 401 and "cora (contributor)" not in answer.text
    assert client.http.get("/records/new").status_code == 303  # not signed in
    unknown = Client(team).login("nobody-at-all", "not the password")
    assert unknown.status_code == 401
    assert LOGIN_REFUSED.split(",")[0] in unknown.text


@pytest.mark.parametrize("value", SQL)
def test_sql_looking_values_in_every_parameter_are_only_values(team: str, value: str):
    proposal_id = waiting(team)
    client = as_role(team, "reviewer")
    quoted = value.replace("/", "%2F")
    for path in (
        f"/proposals/{quoted}",
        f"/activity/crossing/{quoted}",
        f"/activity/record/{quoted}",
        f"/{quoted}.html",
        f"/records/new?crossing={quoted}&replaces={quoted}",
        f"/review?done={quoted}",
        f"/login?next={quoted}",
    ):
        answer = client.http.get(path)
        assert answer.status_code < 500, path
        assert "Traceback" not in answer.text
    before = team_rows(team)
    for field in ("crossing_id", "date", "kind", "status", "summary", "replaces", "source_url"):
        answer = client.post("/records/new", {**CLOSING, field: value})
        assert answer.status_code in (303, 422), field
    for path in (f"/review/{quoted}/accept", f"/review/{quoted}/reject"):
        assert client.post(path, {"reason": value}).status_code in (404, 409)
    assert client.login(value, value).status_code == 401
    after = team_rows(team)
    assert after["team_users"] == before["team_users"]
    assert after["observations"] == before["observations"]
    with open_store(team) as opened:
        assert proposals(opened)[0].id == proposal_id


def test_a_session_signed_out_is_over_even_if_its_cookie_comes_back(team: str):
    client = as_role(team, "reviewer")
    kept = client.http.cookies.get(COOKIE)
    assert client.http.get("/review").status_code == 200
    assert client.post("/logout", {}, token=client.token("/review")).status_code == 303
    client.http.cookies.set(COOKIE, kept)  # the old cookie, replayed
    assert client.http.get("/review").status_code == 303
    again = as_role(team, "reviewer")  # a new sign-in is a new session
    assert again.http.get("/review").status_code == 200


def test_parallel_wrong_passwords_are_each_counted_before_they_are_checked(team: str):
    import threading

    import geo.team as team_module
    from geo.team import LOCK_AFTER, LoginRefusedError, check_password

    checked = []
    real = team_module._HASHER

    class Counting:  # the hasher, counting the passwords it checks
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, stored, password):
            checked.append(password)
            return real.verify(stored, password)

    def attempt(n: int) -> None:
        with open_store(team, writable=True) as opened, pytest.raises(LoginRefusedError):
            check_password(opened, "cora", f"wrong {n}", client="203.0.113.9")

    with mock.patch.object(team_module, "_HASHER", Counting()):
        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(checked) == LOCK_AFTER  # the rest were refused unchecked


def test_the_public_log_names_no_account_and_an_odd_crossing_id_is_no_page(team: str):
    anonymous = Client(team)
    shown = anonymous.http.get("/activity").text
    assert "account added" not in shown and "ada" not in shown
    assert "account added" in as_role(team, "admin").http.get("/activity").text
    answer = anonymous.http.get("/activity/crossing/%5Cevil.example%23")
    # No link is made of it (the sign-in link carries the address back, encoded, as a path).
    assert answer.status_code == 404 and 'href="/\\evil' not in answer.text


def test_a_store_that_cannot_be_read_is_not_named_to_a_visitor(team: str, tmp_path):
    from pathlib import Path

    client = Client(team)
    Path(team).rename(tmp_path / "elsewhere.gpkg")
    answer = client.http.get("/activity")
    assert answer.status_code == 503
    assert team not in answer.text and "gpkg" not in answer.text


def test_an_oversized_form_is_refused_before_it_is_read_whole(team: str):
    client = Client(team)
    token = client.token()
    before = team_rows(team)
    huge = client.http.post("/login", data={"csrf": token, "name": "cora", "password": "x" * 2**21})
    many = client.http.post("/login", data={"csrf": token, **{f"f{n}": "v" for n in range(100)}})
    assert huge.status_code == 400 and many.status_code == 400
    assert team_rows(team) == before


def test_behind_a_proxy_the_feeds_links_are_the_servers_whatever_the_host_header_says(team: str):
    client = Client(team, base_url="https://desk.example.org/crossings/")
    feed = client.http.get("/feed.atom", headers={"Host": "attacker.example"})
    assert feed.status_code == 200
    assert "https://desk.example.org/crossings/" in feed.text
    assert "attacker.example" not in feed.text


def test_a_page_is_drawn_again_only_when_what_it_shows_changes(store):
    """A record of one crossing redraws its page and the overview, not a page far from it."""
    from geo.store.edits import ensure_edit_marks
    from geo.web.pages import MapPages
    from tests.test_timelines import record

    with open_store(store, writable=True) as opened:
        ensure_edit_marks(opened)
    pages = MapPages(str(store))
    far, near, overview = (pages.page(n) for n in ("quanhe-wonjong", "friendship-bridge", "index"))
    assert pages.page("quanhe-wonjong") is far  # kept while nothing changes
    with open_store(store, writable=True) as opened:
        opened.add_observations(
            [record("w-new-lorries", "friendship-bridge", "2026-02", status="restricted")]
        )
    assert pages.page("quanhe-wonjong") is far
    again = pages.page("friendship-bridge")
    assert again is not near and "timelines w-new-lorries" in again.html  # its summary
    assert "timelines w-new-lorries" not in near.html
    assert pages.page("index") is not overview


def _data_block(html: str) -> tuple[str, str]:
    """A page's data block, and the page without it."""
    start = html.index('id="crossings-data">') + len('id="crossings-data">')
    end = html.index("</script>", start)
    return html[start:end], html[:start] + html[end:]


@pytest.mark.parametrize("name", ["friendship-bridge", "index"])
def test_a_page_whose_records_changed_gets_new_data_in_the_page_drawn(store, name):
    """Only the data block changes: it equals a page drawn afresh; the map around it is kept."""
    from geo.store.edits import ensure_edit_marks
    from geo.web.pages import MapPages
    from tests.test_timelines import record

    with open_store(store, writable=True) as opened:
        ensure_edit_marks(opened)
    pages = MapPages(str(store))
    first = pages.page(name)
    with open_store(store, writable=True) as opened:
        opened.add_observations(
            [record("w-spliced", "friendship-bridge", "2026-02", status="restricted")]
        )
    again = pages.page(name)
    data, rest = _data_block(again.html)
    assert "w-spliced" in data and rest == _data_block(first.html)[1]
    assert again.scripts == first.scripts
    fresh = MapPages(str(store)).page(name)  # drawn whole
    assert data == _data_block(fresh.html)[0]


@pytest.mark.parametrize("name", ["friendship-bridge", "index"])
def test_a_page_drawn_again_by_the_painter_is_the_page_drawn_here(store, painted, name):
    """A process of its own draws the new data of a page after a write: the same data."""
    from geo.publish import page_data
    from geo.render import page_data_json
    from geo.web.pages import MapPages
    from tests.test_timelines import record

    pages = painted
    try:
        first = pages.page(name)
        with open_store(store, writable=True) as opened:
            opened.add_observations(
                [record("w-painted", "friendship-bridge", "2026-02", status="restricted")]
            )
        apart = pages.painter.data_json(name)
        assert apart is not None and "w-painted" in str(apart[0])
        assert pages.painter.data_json("no-such-crossing") == (None,)
        with mock.patch("geo.web.pages.page_data", side_effect=AssertionError("drawn here")):
            again = pages.page(name)  # by the painter: this process draws nothing
        data = _data_block(again.html)[0]
        assert "w-painted" in data and again.scripts == first.scripts
        here = page_data(str(store), name)
        assert here is not None and apart[0] == page_data_json(here)
        assert data == _data_block(MapPages(str(store)).page(name).html)[0]
    finally:
        pages.close()
    assert not pages.painter.ready() and pages.painter.data_json("friendship-bridge") is None


def test_while_the_painter_is_gone_pages_are_drawn_here_and_it_is_started_again(store, painted):
    from tests.test_timelines import record

    painter = painted.painter
    painted.page("friendship-bridge")
    first = painter._process
    assert first is not None
    first.kill()
    first.join()
    with open_store(store, writable=True) as opened:
        opened.add_observations(
            [record("w-meanwhile", "friendship-bridge", "2026-02", status="restricted")]
        )
    assert "w-meanwhile" in _data_block(painted.page("friendship-bridge").html)[0]
    assert painter._process is not first and painter.ready(timeout=60)  # started again
    assert "w-meanwhile" in str(painter.data_json("friendship-bridge"))


def test_a_late_painter_is_started_again_and_its_late_answer_is_never_taken_for_another(
    store, painted
):
    """A page not drawn in time is drawn here; the next asked is its own, not the late one."""
    from geo.publish import page_data
    from geo.render import page_data_json

    painter = painted.painter
    first = painter._process
    painter.TIMEOUT_S = 0.0  # no page can be drawn in no time
    assert painter.data_json("friendship-bridge") is None  # the caller draws it
    assert painter._process is not first and first is not None and not first.is_alive()
    painter.TIMEOUT_S = 60.0
    assert painter.ready(timeout=60)
    here = page_data(str(store), "quanhe-wonjong")
    assert here is not None
    assert painter.data_json("quanhe-wonjong") == (page_data_json(here),)


def test_a_painter_that_could_not_read_the_store_is_started_again_later(store, tmp_path):
    """The store was not there when the server started: its pages are drawn apart once it is."""
    from geo.publish import page_data
    from geo.render import page_data_json
    from geo.store.edits import ensure_edit_marks
    from geo.web.pages import Painter

    later = tmp_path / "later.gpkg"
    painter = Painter(str(later))
    try:
        assert not painter.ready(timeout=60)  # it could not read it: the server draws
        shutil.copyfile(store, later)
        with open_store(later, writable=True) as opened:
            ensure_edit_marks(opened)
        assert painter.data_json("friendship-bridge") is None  # not tried again yet
        painter.RETRY_S = 0.0
        assert painter.data_json("friendship-bridge") is None  # started again; drawn by the caller
        assert painter.ready(timeout=60)
        here = page_data(str(later), "friendship-bridge")
        assert here is not None
        assert painter.data_json("friendship-bridge") == (page_data_json(here),)
    finally:
        painter.close()


@pytest.fixture
def painted(store):
    """The pages of the test store, drawn again by a painter that is ready; stopped at the end."""
    from geo.store.edits import ensure_edit_marks
    from geo.web.pages import MapPages

    with open_store(store, writable=True) as opened:
        ensure_edit_marks(opened)
    pages = MapPages(str(store), apart=True)
    assert pages.painter is not None and pages.painter.ready(timeout=60)
    yield pages
    pages.close()


@pytest.mark.parametrize("when", ["drawing", "starting"])
def test_the_painter_of_a_server_that_is_killed_ends(store, when):
    """A server killed (no shutdown), even while its painter starts, leaves no process behind."""
    import signal
    import subprocess
    import sys

    from geo.store.edits import ensure_edit_marks

    with open_store(store, writable=True) as opened:
        ensure_edit_marks(opened)
    script = (
        "import sys, time\n"
        "from geo.web.pages import MapPages\n"
        "pages = MapPages(sys.argv[1], apart=True)\n"
        "if sys.argv[2] == 'drawing':\n"
        "    assert pages.painter.ready(timeout=60)\n"
        "print(pages.painter._process.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", script, str(store), when], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    (painter,) = map(int, server.stdout.readline().split())
    assert _runs(painter)
    server.send_signal(signal.SIGKILL)  # "starting": before the painter has read the store
    server.wait()
    server.stdout.close()
    deadline = time.monotonic() + 20
    while _runs(painter):
        if time.monotonic() > deadline:
            os.kill(painter, signal.SIGKILL)
            pytest.fail("the painter outlived its server")
        time.sleep(0.2)


def _runs(pid: int) -> bool:
    """Whether a process runs (an ended one not yet reaped by its new parent does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.parametrize("role", ["anonymous", "reviewer"])
def test_a_live_page_is_served_gzipped_to_a_browser_that_accepts_it_the_same_page(team, role):
    """The same page as UTF-8 and as gzip, the account's bar included; far fewer bytes sent."""
    from geo.store.edits import ensure_edit_marks

    with open_store(team, writable=True) as opened:
        ensure_edit_marks(opened)  # the page is kept between requests, not drawn anew
    client = as_role(team, role)
    plain = client.http.get("/friendship-bridge.html", headers={"Accept-Encoding": "identity"})
    packed = client.http.get("/friendship-bridge.html", headers={"Accept-Encoding": "gzip, br"})
    refused = client.http.get("/friendship-bridge.html", headers={"Accept-Encoding": "gzip;q=0"})
    two_lines = client.http.get(
        "/friendship-bridge.html", headers=[("Accept-Encoding", "br"), ("Accept-Encoding", "gzip")]
    )
    assert two_lines.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers and "content-encoding" not in refused.headers
    assert packed.headers["content-encoding"] == "gzip"
    for answer in (plain, packed, refused):
        assert answer.status_code == 200 and answer.headers["vary"] == "Accept-Encoding"
    # The bodies differ only in the form token of the bar, which each request renders anew.
    token = re.compile(r'name="csrf" value="[^"]+"')
    assert token.sub("", packed.text) == token.sub("", plain.text) == token.sub("", refused.text)
    assert ("Sign out" in plain.text) == (role != "anonymous")
    assert plain.text.index('href="/static/web.css"') < plain.text.index("</head>")
    assert plain.text.index('src="/static/web.js"') < plain.text.rindex("</body>")
    assert packed.num_bytes_downloaded * 3 < plain.num_bytes_downloaded


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>t</title></head><body><p>map</p></body>\n<script>x()</script></html>",
        "<p>a page without a head or a body</p>",
        "<html><head></head><body>" + "수풍 " * 40_000 + "</body><script>" + "y;" * 9000,
    ],
)
@pytest.mark.parametrize("bar", ["", "<details>rev · reviewer</details>", "é" * 70_000])
def test_a_page_compressed_around_its_bar_is_one_valid_gzip_stream_of_the_page(html, bar):
    """Whatever the bar, the gzip stream inflates (its check and size verified) to the page."""
    import gzip
    import zlib

    from geo.web.pages import MapPage

    page = MapPage(html, ()).prepare()
    plain = page.body(bar, gzipped=False)
    packed = page.body(bar, gzipped=True)
    assert plain.decode().count(bar) >= 1 and plain.decode().count("/static/web.js") == 1
    assert gzip.decompress(packed) == plain  # checks the CRC-32 and the length
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert inflate.decompress(packed) == plain and inflate.eof and not inflate.unused_data


def test_the_length_of_a_compressed_page_tells_nothing_of_its_form_token():
    """BREACH: a guess that matches the token, in the page or in the bar, sends no fewer bytes."""
    from itertools import takewhile

    from geo.web.pages import MapPage

    def shared(a: bytes, b: bytes) -> int:
        return sum(1 for _ in takewhile(lambda pair: pair[0] == pair[1], zip(a, b, strict=False)))

    html = "<html><head></head><body>" + "<p>record token-a9 said</p>" * 2000 + "</body></html>"
    page = MapPage(html, ()).prepare()
    bar = '<a href="/{guess}.html">x</a><input name="csrf" value="{token}">'
    sizes = {
        len(page.body(bar.format(guess=guess, token=token), gzipped=True))
        for token in ("token-a9", "token-b7")  # the first is also in the page
        for guess in ("token-a9", "zzzzzzzz")  # the first matches the first token
    }
    assert len(sizes) == 1
    # The page's compressed bytes do not depend on the bar: only the bar's bytes differ.
    one = page.body(bar.format(guess="a", token="token-a9"), gzipped=True)[:-8]  # less CRC, size
    two = page.body(bar.format(guess="a", token="token-b7"), gzipped=True)[:-8]
    same_start, same_end = shared(one, two), shared(one[::-1], two[::-1])
    assert len(one) - same_start - same_end < 100 < same_start


def test_a_reader_of_the_api_is_given_no_session_and_a_page_with_forms_is(team: str):
    client = Client(team)  # no cookie yet
    for url in ("/api/status?as_of=2023-09-01", "/feed.json", "/api/crossings"):
        answer = client.http.get(url)
        assert answer.status_code == 200 and "set-cookie" not in answer.headers, url
    assert "crossings_session=" in client.http.get("/login").headers["set-cookie"]


def test_an_unforeseen_fault_is_one_plain_page_with_the_headers(team: str, caplog):
    with mock.patch("geo.web.api.ReadApi.status", side_effect=RuntimeError("/srv/secret path")):
        client = Client(team)
        answer = client.http.get("/api/status")
    assert answer.status_code == 500 and answer.headers["content-type"].startswith("text/html")
    assert "secret path" not in answer.text and "Traceback" not in answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert "secret path" in caplog.text  # the details are in the server's log


def test_the_log_says_when_as_a_reader_does(team: str):
    contributor = as_role(team, "contributor")
    assert contributor.post("/records/new", CLOSING).status_code == 303
    log = contributor.http.get("/activity").text
    stamps = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', log)
    assert stamps and all(
        re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", shown) for _, shown in stamps
    )
    assert all(
        at.startswith(shown[:10]) and "." in at for at, shown in stamps
    )  # exact in the markup
    assert not re.search(r">\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z<", log)  # no raw stamp shown
