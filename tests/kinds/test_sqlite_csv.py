"""The C module of SQLite exports (``jobext/kinds/_sqlite_csv.c``) against the Python way
(``csv_export._records``) and against Python's own ``repr`` of floats: the same bytes for the
same rows, whatever their values; the same errors."""

from __future__ import annotations

import math
import random
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest

from jobext.kinds import csv_export


class Channel:
    """Where the export reports progress (in a job, the pipe to the server)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


def export(
    monkeypatch: pytest.MonkeyPatch,
    path: Path,
    sql: str,
    params: dict[str, Any] | None = None,
    *,
    in_c: bool,
    size: int = 10_000,
) -> bytes:
    monkeypatch.setattr(csv_export, "USE_C", in_c)
    out = path.with_name(f"out-{in_c}-{size}.csv")
    csv_export.export(f"sqlite:///{path}", sql, params or {}, out, size, Channel())
    return out.read_bytes()


def random_float(generator: random.Random) -> float:
    kind = generator.random()
    if kind < 0.3:  # any bit pattern: tiny, huge, subnormal, infinite
        value = struct.unpack("<d", generator.getrandbits(64).to_bytes(8, "little"))[0]
        return 0.5 if math.isnan(value) else value  # SQLite stores NaN as NULL
    if kind < 0.55:
        return generator.uniform(-1e6, 1e6)
    if kind < 0.8:  # money and measurements: few decimals
        return round(generator.uniform(-1e5, 1e5), generator.randint(0, 6))
    return generator.randint(-(10**9), 10**9) / 10 ** generator.randint(0, 20)


EDGE_FLOATS = [
    0.0,
    -0.0,
    1e-4,
    9.999999999999999e-05,
    2.0**52,
    2.0**53,
    2.0**53 - 1,
    1e16,
    1e15,
    0.1,
    0.5,
    2.5,
    5e-324,
    1.7976931348623157e308,
    math.inf,
    -math.inf,
    4503599627370495.5,
    123456789.125,
    *(2.0**i for i in range(-30, 60)),
    *(3 * 2.0**i for i in range(-30, 50)),
    *(k / 10**d for k in (1, 5, 15, 25, 125) for d in range(0, 20)),
]


def test_the_c_module_is_built() -> None:
    """The install compiles it (hatch_build.py); without it SQLite exports are much slower."""
    try:
        from jobext.kinds import _sqlite_csv  # type: ignore[attr-defined]
    except ImportError as exc:  # pragma: no cover - says what to look at
        pytest.fail(f"jobext.kinds._sqlite_csv was not built (see pip's output): {exc}")
    assert _sqlite_csv.sqlite_version == sqlite3.sqlite_version


def test_floats_are_written_as_their_repr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generator = random.Random(1201)
    values = EDGE_FLOATS + [random_float(generator) for _ in range(200_000)]
    path = tmp_path / "floats.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE f (i INTEGER PRIMARY KEY, x REAL)")
        db.executemany("INSERT INTO f (x) VALUES (?)", [(v,) for v in values])
        stored = [x for (x,) in db.execute("SELECT x FROM f ORDER BY i")]
    db.close()
    lines = export(monkeypatch, path, "SELECT x FROM f ORDER BY i", in_c=True).split(b"\n")
    assert lines[0] == b"x" and lines[-1] == b""
    wrong = [
        (x, line) for x, line in zip(stored, lines[1:-1], strict=True) if repr(x) != line.decode()
    ]
    assert not wrong, wrong[:20]


def random_text(generator: random.Random) -> str:
    alphabet = "ab ,\"\n\r\t;'\\xé日🎉\x00"
    return "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 12)))


def random_value(generator: random.Random) -> Any:
    kind = generator.randrange(6)
    if kind == 0:
        return None
    if kind == 1:
        return generator.choice(
            [0, -1, 2**63 - 1, -(2**63), generator.randint(-(2**63), 2**63 - 1)]
        )
    if kind == 2:
        return random_float(generator)
    if kind == 3:
        return generator.choice(["", "plain", random_text(generator)])
    if kind == 4:
        return bytes(generator.getrandbits(8) for _ in range(generator.randint(0, 6)))
    return generator.randint(-1000, 1000)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Columns without affinity, each value of its own type: every column mixes them all."""
    generator = random.Random(20261201)
    path = tmp_path / "mixed.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, a, b, c, d)")
        db.executemany(
            "INSERT INTO m (a, b, c, d) VALUES (?, ?, ?, ?)",
            [tuple(random_value(generator) for _ in range(4)) for _ in range(20_000)],
        )
        db.execute("CREATE TABLE one (x)")
        db.executemany("INSERT INTO one VALUES (?)", [(None,), ("",), (None,), ("x",)])
    db.close()
    return path


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT * FROM m ORDER BY id", {}),
        ('SELECT a AS "a,b", b AS "say ""hi""", c AS "" FROM m ORDER BY id', {}),
        ("SELECT x FROM one", {}),  # a NULL alone on its line
        (
            "SELECT :i AS i, :f AS f, :t AS t, :b AS b, :n AS n, :yes AS yes, id FROM m"
            " WHERE id IN :ids ORDER BY id",
            {
                "i": -(2**63),
                "f": 0.1,
                "t": 'a,"b"',
                "b": b"\x00\xff",
                "n": None,
                "yes": True,
                "ids": [1, 5, 700, 19_999],
            },
        ),
        ("SELECT id FROM m WHERE 0", {}),  # no rows: the header alone
    ],
)
def test_the_c_module_writes_what_python_writes(
    mixed: Path, monkeypatch: pytest.MonkeyPatch, sql: str, params: dict[str, Any]
) -> None:
    expected = export(monkeypatch, mixed, sql, params, in_c=False)
    for size in (1, 777, 10_000, 1_000_000):
        assert export(monkeypatch, mixed, sql, params, in_c=True, size=size) == expected, size


@pytest.mark.parametrize("in_c", [True, False])
def test_text_that_is_not_utf8_fails_the_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_c: bool
) -> None:
    path = tmp_path / "bad.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x TEXT)")
        db.execute("INSERT INTO t VALUES ('fine'), (CAST(x'ff41' AS TEXT))")
    db.close()
    with pytest.raises(sqlite3.OperationalError, match="Could not decode to UTF-8 column 'x'"):
        export(monkeypatch, path, "SELECT x FROM t", in_c=in_c)


@pytest.mark.parametrize(
    ("sql", "error", "message"),
    [
        ("SELECT 1; SELECT 2", sqlite3.ProgrammingError, "one statement at a time"),
        ("DELETE FROM m", sqlite3.OperationalError, "attempt to write a readonly database"),
        ("SELEC 1", sqlite3.OperationalError, 'near "SELEC": syntax error'),
        ("-- nothing", csv_export.NoRows, "returned no rows"),
    ],
)
@pytest.mark.parametrize("in_c", [True, False])
def test_the_same_errors(
    mixed: Path,
    monkeypatch: pytest.MonkeyPatch,
    in_c: bool,
    sql: str,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        export(monkeypatch, mixed, sql, in_c=in_c)
    with sqlite3.connect(mixed) as db:
        assert db.execute("SELECT count(*) FROM m").fetchone() == (20_000,)
    db.close()


def test_a_trailing_semicolon_and_comment_are_one_statement(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = export(monkeypatch, mixed, "SELECT id FROM m WHERE id < 3; -- two rows", in_c=True)
    assert body == b"id\n1\n2\n"


def test_a_missing_database_file_is_not_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(sqlite3.OperationalError, match="unable to open database file"):
        export(monkeypatch, path, "SELECT 1", in_c=True)
    assert not path.exists()


def test_without_the_c_module_the_export_says_so_and_writes_the_same(
    mixed: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import sys

    expected = export(monkeypatch, mixed, "SELECT * FROM m ORDER BY id", in_c=True)
    import jobext.kinds

    # As if it was not built: the import fails.
    monkeypatch.delattr(jobext.kinds, "_sqlite_csv", raising=False)
    monkeypatch.setitem(sys.modules, "jobext.kinds._sqlite_csv", None)
    with caplog.at_level("INFO", logger="jobext.query"):
        assert export(monkeypatch, mixed, "SELECT * FROM m ORDER BY id", in_c=True) == expected
    assert "C module for SQLite exports was not built" in caplog.text


def test_a_closed_reader_refuses_to_read(mixed: Path) -> None:
    from jobext.kinds import _sqlite_csv  # type: ignore[attr-defined]

    reader = _sqlite_csv.Reader(str(mixed), "SELECT id FROM m WHERE id < ?", [3])
    assert reader.columns == ("id",)
    assert reader.read(1) == (1, b"1\n")
    reader.close()
    assert reader.columns == ()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        reader.read(1)
    reader.close()  # twice is fine


@pytest.mark.parametrize("form", ["file:{path}?mode=ro&uri=true", "{path}?timeout=1"])
def test_urls_with_options_take_the_c_module(
    mixed: Path, form: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A URI filename (``mode=ro``) and the driver's options reach the module's connection."""
    out = mixed.with_name("uri.csv")
    url = "sqlite:///" + form.format(path=mixed)
    with caplog.at_level("INFO", logger="jobext.query"):
        count = csv_export.export(url, "SELECT id FROM m WHERE id <= 2", {}, out, 10, Channel())
    assert (count, out.read_bytes()) == (2, b"id\n1\n2\n")
    assert "in Python" not in caplog.text
