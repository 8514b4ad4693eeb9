"""Who is signed in, kept in a signed cookie; the forms' tokens; the headers of every response.

The cookie holds an account's name and a token for the forms of the session,
signed with the server's secret (itsdangerous), HTTP-only and SameSite=Lax. It
is never trusted for more than the name: every request reads the account again,
so a disabled account is out at its next request, and its role is the one the
store holds now.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from geo.errors import GeoError
from geo.team import session_begun

__all__ = [
    "COOKIE",
    "SESSION_HOURS",
    "Session",
    "Sessions",
    "content_policy",
    "load_secret",
    "script_hash",
]

#: The session cookie's name.
COOKIE = "crossings_session"
#: How long a session lasts after signing in.
SESSION_HOURS = 12
#: The environment variable that may hold the secret.
SECRET_ENV = "CROSSINGS_SECRET"
_SECRET_BYTES = 48


class SecretError(GeoError):
    """No key to sign sessions: none given for a database, or its file open to others."""


def _read_secret(path: Path) -> bytes:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretError(
            f"{path}: the session key may be read by other users (mode {stat.S_IMODE(mode):o}). "
            f"Fix: chmod 600 {path}"
        )
    secret = path.read_bytes().strip()
    if len(secret) < 32:
        raise SecretError(
            f"{path}: the session key is {len(secret)} bytes long; at least 32 are needed. "
            "Fix: delete the file, and the server makes a new one"
        )
    return secret


def _new_secret_file(path: Path) -> bytes:
    """Write a new random key, readable by its owner only; never print it."""
    secret = base64.urlsafe_b64encode(secrets.token_bytes(_SECRET_BYTES))
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secret + b"\n")
    return secret


def load_secret(store: str, *, secret_file: Path | None, is_database: bool) -> bytes:
    """Return the key that signs session cookies.

    From ``secret_file`` (made if absent), else the environment variable
    ``CROSSINGS_SECRET``, else a file beside a GeoPackage store
    (``STORE.web-secret``, made if absent). A database needs one of the first
    two, which every server process shares.

    Raises
    ------
    SecretError
        If there is none for a database, or the file may be read by others.
    """
    if secret_file is None and os.environ.get(SECRET_ENV):
        secret = os.environ[SECRET_ENV].encode("utf-8")
        if len(secret) < 32:
            raise SecretError(
                f"{SECRET_ENV} is {len(secret)} characters long; at least 32 are needed. Fix: "
                "set it to a long random text, e.g. from `openssl rand -base64 48`"
            )
        return secret
    if secret_file is None and is_database:
        raise SecretError(
            "a server of a PostGIS store needs a session key that every server process shares. "
            f"Fix: pass --secret-file PATH (made if absent) or set {SECRET_ENV}"
        )
    path = secret_file or Path(f"{store}.web-secret")
    try:
        return _read_secret(path) if path.exists() else _new_secret_file(path)
    except OSError as err:
        raise SecretError(
            f"{path}: the session key cannot be read or written ({err.strerror or err}). "
            "Fix: pass --secret-file PATH in a folder you may write to"
        ) from err


@dataclass(frozen=True)
class Session:
    """What a session cookie says: the account's name (None: nobody signed in) and its token."""

    name: str | None
    token: str
    #: When it began (geo.team.session_begun): a sign-out of its account since ends it.
    begun: str = ""

    def checks(self, given: object) -> bool:
        """Say whether a form's token is this session's (an empty token checks nothing)."""
        return (
            bool(self.token)
            and isinstance(given, str)
            and hmac.compare_digest(given.encode(), self.token.encode())
        )


class Sessions:
    """Sign and read session cookies with the server's secret."""

    def __init__(self, secret: bytes) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="crossings-session")

    def read(self, cookie: str | None) -> Session | None:
        """Return the session a cookie holds; None if it is missing, forged or expired."""
        if not cookie or len(cookie) > 4096:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_HOURS * 3600)
        except BadSignature:  # a forged cookie, or an expired one (SignatureExpired)
            return None
        if not isinstance(data, dict):
            return None
        name, token, begun = data.get("u"), data.get("c"), data.get("t", "")
        if not isinstance(token, str) or not (name is None or isinstance(name, str)):
            return None
        if not isinstance(begun, str):
            return None
        return Session(name, token, begun)

    @staticmethod
    def new(name: str | None) -> Session:
        """Return a new session with a new token for its forms."""
        return Session(name, secrets.token_urlsafe(32), session_begun())

    def cookie(self, session: Session) -> str:
        """Return the signed cookie value of a session."""
        return str(
            self._serializer.dumps({"u": session.name, "c": session.token, "t": session.begun})
        )


def script_hash(text: str) -> str:
    """Return the Content-Security-Policy source that allows one inline script."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


#: Where a map's tiles come from: the street map and the imagery it offers.
_TILES = "https://tile.openstreetmap.org https://*.tile.openstreetmap.org https://server.arcgisonline.com"


def content_policy(
    scripts: Iterable[str] = (), *, inline_styles: bool = False, evaluates: bool = False
) -> str:
    """Return the Content-Security-Policy of a page: its own files, and these inline scripts.

    A map page's inline scripts are allowed by their hashes; its styles (folium
    writes ``style`` attributes) by ``inline_styles``; ``evaluates`` lets its
    scripts compile text to code (the map's measuring tool builds its templates
    with lodash, which does). Frames, plugins and forms to other sites are refused.
    """
    script_src = " ".join(["'self'", *scripts, *(["'unsafe-eval'"] if evaluates else [])])
    style_src = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    return (
        f"default-src 'none'; script-src {script_src}; style-src {style_src}; "
        f"img-src 'self' data: {_TILES}; connect-src 'self'; font-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
