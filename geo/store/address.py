"""A PostGIS store's address: read once, handed to the driver as keywords, shown without secrets.

The address is a libpq URI, ``postgresql://[USER[:PASSWORD]@]HOST[:PORT][,…][/DATABASE][?KEY=VALUE&…]``,
read here as libpq reads one, so the driver never parses it: a driver's message
about an address it could not read may quote the part it stumbled on, and that
part can be the password. Every message names the address by :attr:`Address.shown`,
and :func:`Address.scrub` removes the secrets from any text that came from elsewhere.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote

from geo.errors import NotAStoreError

__all__ = ["SCHEMES", "SECRET_KEYS", "Address", "is_database", "parse_address"]

#: How a database address starts (the scheme is case-insensitive, as in any URL).
SCHEMES = ("postgresql://", "postgres://")

#: Connection parameters whose values are secrets, as libpq names them.
SECRET_KEYS = frozenset({"password", "sslpassword"})

# A percent sign that does not start an escape of two hex digits.
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_FORM = "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?KEY=VALUE&…]"


def is_database(target: object) -> bool:
    """Whether ``target`` names a PostGIS database (``postgresql://…``) rather than a file.

    Examples
    --------
    >>> is_database("POSTGRESQL://desk@db/crossings"), is_database("layers/crossings.gpkg")
    (True, False)
    """
    return isinstance(target, str) and target[:13].lower().startswith(SCHEMES)


class Address(NamedTuple):
    """A database address, read: what the driver is given, what messages show."""

    #: The address as messages show it: every password as ``***``.
    shown: str
    #: libpq's connection keywords: host, port, user, password, dbname and the query's keys.
    keywords: dict[str, str]
    #: The secrets as given and as decoded, to be removed from any text shown.
    secrets: tuple[str, ...]

    def scrub(self, text: str) -> str:
        """Return ``text`` with every secret of the address replaced by ``***``.

        A secret of four characters or more is removed wherever it stands; a
        shorter one where it stands alone, so a short password does not turn
        every word that holds its letters into stars.
        """
        for secret in sorted(self.secrets, key=len, reverse=True):
            if len(secret) >= 4:
                text = text.replace(secret, "***")
            elif secret:
                text = re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", "***", text)
        return text


def _fault(problem: str, fix: str) -> NotAStoreError:
    # Never the address itself: where it cannot be read, any part of it may be a secret.
    return NotAStoreError(f"database address: it {problem}. Allowed: {_FORM}. Fix: {fix}")


def _decoded(text: str, part: str, *, secret: bool = False) -> str:
    """Percent-decode one part of the address, refusing a '%' that starts no escape."""
    if _BAD_ESCAPE.search(text):
        shown = part if secret else f"{part} {text[:60]!r}"
        raise _fault(
            f"has a '%' in its {shown} that is not followed by two hex digits",
            "write a '%' as %25 (a password 'a%b' is written a%25b)",
        )
    try:
        return unquote(text, errors="strict") if "%" in text else text
    except UnicodeDecodeError:
        shown = part if secret else f"{part} {text[:60]!r}"
        raise _fault(
            f"has escapes in its {shown} that do not decode to UTF-8 text",
            "write the text's UTF-8 bytes, each as %XX",
        ) from None


def parse_address(url: str) -> Address:
    """Read a ``postgresql://`` address as libpq does, without handing the text to the driver.

    Raises
    ------
    NotAStoreError
        If the address cannot be read; the message never repeats the address,
        any part of which may be a password.

    Examples
    --------
    >>> address = parse_address("postgresql://desk:p%40ss@db.example.org:5433/crossings?sslmode=require")
    >>> address.shown
    'postgresql://desk:***@db.example.org:5433/crossings?sslmode=require'
    >>> sorted(address.keywords.items())  # doctest: +NORMALIZE_WHITESPACE
    [('dbname', 'crossings'), ('host', 'db.example.org'), ('password', 'p@ss'),
     ('port', '5433'), ('sslmode', 'require'), ('user', 'desk')]
    """
    if not is_database(url):
        raise _fault("does not start with postgresql://", "start it with postgresql://")
    scheme, rest = url.split("://", 1)
    rest, keywords, secrets, shown_user = _userinfo(rest)
    if "@" in rest:
        raise _fault(
            "has an '@' after a '/' or a second '@', so where its password ends is unclear",
            "write an '@' inside a user name, password or parameter as %40, and a '/' as %2F",
        )
    location, question, query = rest.partition("?")
    hostspec, _, dbname = location.partition("/")
    if dbname:
        keywords["dbname"] = _decoded(dbname, "database name")
    keywords.update(_hosts(hostspec))
    parameters, parameter_secrets, shown_pairs = _parameters(query)
    keywords.update(parameters)
    secrets += parameter_secrets
    shown = f"{scheme}://{shown_user}{location}" + (question + "&".join(shown_pairs))
    return Address(shown, keywords, tuple(s for s in secrets if s))


def _userinfo(rest: str) -> tuple[str, dict[str, str], list[str], str]:
    """Read the user and password before the host: the rest, keywords, secrets and how shown.

    libpq reads user credentials up to the first '@' that comes before any '/'.
    """
    keywords: dict[str, str] = {}
    secrets: list[str] = []
    shown_user = ""
    at, slash = rest.find("@"), rest.find("/")
    if at >= 0 and (slash < 0 or at < slash):
        userinfo, rest = rest[:at], rest[at + 1 :]
        user, colon, password = userinfo.partition(":")
        if user:
            keywords["user"] = _decoded(user, "user name")
        shown_user = user
        if colon:
            secrets += [password, _decoded(password, "password", secret=True)]
            keywords["password"] = secrets[-1]
            shown_user += ":***"
        shown_user += "@"
    return rest, keywords, secrets, shown_user


def _hosts(hostspec: str) -> dict[str, str]:
    """Read the hosts and their ports (``h1:5432,[::1]:5433``) as libpq's keywords."""
    keywords: dict[str, str] = {}
    hosts, ports = [], []
    for entry in hostspec.split(",") if hostspec else []:
        if entry.startswith("["):  # an IPv6 address: [::1]:5432
            host, bracket, port = entry[1:].partition("]")
            if not bracket or (port and not port.startswith(":")):
                raise _fault(
                    f"has a host {entry[:60]!r} whose '[' is not closed by ']' before its port",
                    "write an IPv6 host as [::1] or [::1]:5432",
                )
            port = port[1:]
        else:
            host, _, port = entry.partition(":")
        hosts.append(_decoded(host, "host"))
        ports.append(_decoded(port, "port"))
    if any(hosts):
        keywords["host"] = ",".join(hosts)
    if any(ports):
        keywords["port"] = ",".join(ports)
    return keywords


def _parameters(query: str) -> tuple[dict[str, str], list[str], list[str]]:
    """Read the query's KEY=VALUE pairs: as keywords, their secrets, and each pair as shown.

    A secret's value (a password given as a parameter) is shown as ``***``.
    """
    keywords: dict[str, str] = {}
    secrets: list[str] = []
    shown_pairs = []
    for pair in query.split("&") if query else []:
        raw_key, equals, raw_value = pair.partition("=")
        key = _decoded(raw_key, "parameter name")
        if not equals or not key:
            raise _fault(
                f"has a parameter {key[:60]!r} without a name or a '='",
                "write each parameter as KEY=VALUE, joined by &",
            )
        if key.lower() in SECRET_KEYS:
            secrets += [raw_value, _decoded(raw_value, key, secret=True)]
            keywords[key.lower()] = secrets[-1]
            shown_pairs.append(f"{raw_key}=***")
        else:
            keywords[key] = _decoded(raw_value, f"parameter {key[:60]!r}")
            shown_pairs.append(pair)
    return keywords, secrets, shown_pairs
