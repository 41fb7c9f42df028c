"""Keeping passwords out of connection URLs (refused there: a URL travels to run config, the UI
and driver errors) and out of error messages (scrubbed of every password the connection knows)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, quote, urlsplit

import psycopg

# Query options through which libpq accepts a secret.
_SECRET_OPTIONS = frozenset({"password", "sslpassword"})
REDACTED = "***"
# One host of a libpq URL's host list: a name or [IPv6 address], and an optional numeric port.
_HOST_AND_PORT = re.compile(r"^(\[[0-9A-Fa-f:.%a-z]*\]|[^:\[\]/]*)(:\d*)?$")


def password_in_url(url: str) -> bool:
    """True when ``url`` carries a password (``user:pw@``, ``?password=``), or cannot be read
    well enough to tell: a password holding ``/``, ``#`` or ``?`` cuts a URL at the wrong place
    (``postgresql://etl:se/cret@host/db`` reads as host ``etl``, port ``se``)."""
    try:
        parts = urlsplit(url.strip())
        options = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return True
    userinfo, _, hosts = parts.netloc.rpartition("@")
    if ":" in userinfo or "@" in parts.path or parts.fragment:
        return True
    if hosts and not all(_HOST_AND_PORT.match(host) for host in hosts.split(",")):
        return True
    return any(name.lower() in _SECRET_OPTIONS for name, _ in options)


def refuse_password_in_url(url: str, *, setting: str, password_setting: str) -> None:
    """Raises ``ValueError`` (naming where the password belongs, never quoting the URL) when
    ``url`` carries a password."""
    if password_in_url(url):
        raise ValueError(
            f"{setting} must not contain a password: put it in {password_setting} (or a libpq"
            " passfile) and give the URL without it (a URL that cannot be read, such as one"
            " whose password holds '/', is refused the same way)"
        )


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (as written and percent-encoded) replaced by ``***``."""
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            text = text.replace(form, REDACTED)
    return text


@contextmanager
def scrubbed_database_errors(secrets: Iterable[str]) -> Iterator[None]:
    """Re-raises a psycopg error whose text holds a secret as the same error class with the
    secret replaced (no chained original); other errors pass unchanged."""
    known = tuple(s for s in secrets if s)
    try:
        yield
    except psycopg.Error as error:
        text = str(error)
        if not any(form in text for secret in known for form in (secret, quote(secret, safe=""))):
            raise
        cleaned = type(error)(scrub(text, known))
    else:
        return
    raise cleaned from None  # raised outside the except block: nothing chains the original
