"""Named SQL statements from ``sql/``: each ``-- name: <name>`` block of ``<file>.sql`` is the
statement ``<file>.<name>``, with its doc comment and ``-- @flag`` lines (docs/architecture.md)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

_NAME_LINE = re.compile(r"^--\s*name:\s*(?P<name>[a-z][a-z0-9_]*)\s*$")


@dataclass(frozen=True)
class SqlStatement:
    """One statement from a file in ``sql/``."""

    key: str  # "transform/users.insert_latest"
    text: str  # the statement, without its trailing semicolon
    path: Path
    doc: str = ""  # the comment lines right after the name line, joined
    flags: frozenset[str] = frozenset()  # "-- @word" lines right after the name line

    @property
    def name(self) -> str:
        return self.key.rsplit(".", 1)[1]

    @property
    def body(self) -> str:
        """The statement without its leading comment lines (its doc, which may mention the
        ``{placeholders}`` a renderer fills)."""
        lines = self.text.splitlines()
        while lines and lines[0].lstrip().startswith("--"):
            lines.pop(0)
        return "\n".join(lines)


def sql_root() -> Path:
    """The ``sql/`` directory: beside the package in a checkout, inside it in a wheel."""
    package_dir = Path(__file__).resolve().parents[1]
    for candidate in (package_dir.parent / "sql", package_dir / "_sql"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no sql/ directory next to {package_dir} (nor packaged inside it)")


def parse_statements(text: str, *, file_key: str, path: Path) -> dict[str, SqlStatement]:
    """Splits a file's text into its named statements."""
    statements: dict[str, SqlStatement] = {}
    name: str | None = None
    lines: list[str] = []

    def close() -> None:
        if name is None:
            if any(line.strip() and not line.strip().startswith("--") for line in lines):
                raise ValueError(f"{path}: SQL before the first '-- name:' line")
            return
        body = "\n".join(lines).strip()
        body = body[:-1].rstrip() if body.endswith(";") else body
        if not body or all(ln.strip().startswith("--") for ln in body.splitlines() if ln.strip()):
            raise ValueError(f"{path}: statement {name!r} is empty")
        if name in statements:
            raise ValueError(f"{path}: statement {name!r} is defined twice")
        doc: list[str] = []
        flags: set[str] = set()
        for line in body.splitlines():
            stripped = line.strip()
            if not stripped.startswith("--"):
                break
            comment = stripped[2:].strip()
            if comment.startswith("@"):
                flags.add(comment[1:])
            else:
                doc.append(comment)
        statements[name] = SqlStatement(
            key=f"{file_key}.{name}",
            text=body,
            path=path,
            doc=" ".join(doc),
            flags=frozenset(flags),
        )

    for line in text.splitlines():
        match = _NAME_LINE.match(line.strip())
        if match:
            close()
            name, lines = match.group("name"), []
        else:
            lines.append(line)
    close()
    return statements


@functools.cache
def load_file(file_key: str) -> dict[str, SqlStatement]:
    """All statements of ``sql/<file_key>.sql``, in file order."""
    path = sql_root() / f"{file_key}.sql"
    return parse_statements(path.read_text(encoding="utf-8"), file_key=file_key, path=path)


def statement(key: str) -> SqlStatement:
    """The statement ``<file key>.<name>``, e.g. ``transform/songplays.insert_window``."""
    file_key, _, name = key.rpartition(".")
    statements = load_file(file_key)
    if name not in statements:
        raise KeyError(f"sql/{file_key}.sql has no statement named {name!r}")
    return statements[name]


def all_statement_files() -> list[str]:
    """Every file key under ``sql/`` (for tests that parse all SQL)."""
    root = sql_root()
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.sql"))
