"""Reading uploaded tables: CSV with a header row, or JSON Lines of flat objects.

Streams the file once, line by line (memory stays flat whatever the size), checks every row, and
infers each column's dtype: `number` when every non-empty value is a finite number, `boolean`
when every non-empty value is true/false, otherwise `string`. The first bad line is reported by
its number, so a person can open the file and fix it.
"""

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

DTYPES = ("number", "string", "boolean")
_BOOL_WORDS = {"true", "false"}


class TableError(ValueError):
    """A problem with the uploaded file, worded for the person who sent it."""


DISTINCT_CAP = 1001  # enough to tell a categorical target from a continuous one


@dataclass
class ColumnStats:
    name: str
    numeric: bool = True
    boolean: bool = True
    seen: bool = False
    missing: int = 0
    present: int = 0  # JSON Lines: rows that have the key at all
    values: set = field(default_factory=set)

    def _count(self, value: Any) -> None:
        if len(self.values) < DISTINCT_CAP:
            self.values.add(value)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "distinct": len(self.values),
            "missing": self.missing,
        }

    def observe_text(self, value: str) -> None:
        if value == "":
            self.missing += 1
            return
        self._count(value)
        self.seen = True
        if self.boolean and value.strip().lower() not in _BOOL_WORDS:
            self.boolean = False
        if self.numeric:
            try:
                self.numeric = math.isfinite(float(value))
            except ValueError:
                self.numeric = False

    def observe_json(self, value: Any) -> None:
        self.present += 1
        if value is None:
            self.missing += 1
            return
        self._count(value)
        self.seen = True
        if not isinstance(value, bool):
            self.boolean = False
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not (is_number and math.isfinite(value)):
            self.numeric = False

    @property
    def dtype(self) -> str:
        if not self.seen:
            return "string"  # every value empty: nothing says it is anything else
        if self.boolean:
            return "boolean"
        return "number" if self.numeric else "string"


@dataclass
class TableSummary:
    format: str
    n_rows: int
    columns: list[dict[str, str]]


def _lines(binary: IO[bytes]) -> Iterator[tuple[int, str]]:
    text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
    line_number = 0
    try:
        for line_number, line in enumerate(text, start=1):
            yield line_number, line
    except UnicodeDecodeError:
        raise TableError(
            f"Line {line_number + 1} is not valid UTF-8 text. Save the file as UTF-8."
        ) from None
    finally:
        text.detach()


def sniff_format(head: bytes, filename: str) -> str:
    name = filename.lower()
    if head.startswith(b"PK\x03\x04") or name.endswith(".zip"):
        return "images"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".csv", ".txt")):
        return "csv"
    return "jsonl" if head.lstrip().startswith(b"{") else "csv"


def summarize(binary: IO[bytes], fmt: str) -> TableSummary:
    return _summarize_jsonl(binary) if fmt == "jsonl" else _summarize_csv(binary)


def _summarize_csv(binary: IO[bytes]) -> TableSummary:
    position = {"line": 0}  # the last physical line read, for error messages

    def text_lines() -> Iterator[str]:
        for number, line in _lines(binary):
            position["line"] = number
            yield line

    reader = csv.reader(text_lines())
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise TableError(f"Line 1 is not valid CSV ({exc}).") from None
    if header is None or not any(h.strip() for h in header):
        raise TableError("The file is empty: send a CSV with a header row and at least one row.")
    names = [h.strip() for h in header]
    _check_names(names, line=1)
    stats = [ColumnStats(n) for n in names]
    rows = 0
    try:
        for row in reader:
            line = position["line"]
            if not row or (len(row) == 1 and row[0] == ""):
                continue  # blank lines are allowed
            if len(row) != len(names):
                raise TableError(
                    f"Line {line} has {len(row)} fields but the header has {len(names)}. "
                    "Every row needs a value (possibly empty) for every column."
                )
            for column, value in zip(stats, row, strict=True):
                column.observe_text(value)
            rows += 1
    except csv.Error as exc:
        raise TableError(f"Line {position['line']} is not valid CSV ({exc}).") from None
    if rows == 0:
        raise TableError("The file has a header but no rows.")
    return TableSummary("csv", rows, [c.summary() for c in stats])


# Column names become feature names, JSON keys in the catalog and ONNX input names: no control
# characters (PostgreSQL's jsonb refuses a NUL outright, which was a 500).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_name(name: str, line: int) -> None:
    if _CONTROL.search(name):
        raise TableError(
            f"Line {line}: the column name {name!r} holds a control character; use printable names."
        )


def _check_names(names: list[str], line: int) -> None:
    if any(not n for n in names):
        raise TableError(f"Line {line}: every column needs a name; one is empty.")
    seen = set()
    for n in names:
        _check_name(n, line)
        if n in seen:
            raise TableError(f"Line {line}: the column name {n!r} appears twice.")
        seen.add(n)


def _summarize_jsonl(binary: IO[bytes]) -> TableSummary:
    stats: dict[str, ColumnStats] = {}
    rows = 0
    for number, line in _lines(binary):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise TableError(f"Line {number} is not valid JSON ({exc}).") from None
        if not isinstance(record, dict):
            raise TableError(
                f"Line {number} is not a JSON object; each line must be one row {{...}}."
            )
        for key, value in record.items():
            if isinstance(value, dict | list):
                raise TableError(
                    f"Line {number}: {key!r} holds a nested {type(value).__name__}; "
                    "values must be numbers, strings, booleans or null."
                )
            if key not in stats:
                if not key.strip():
                    raise TableError(f"Line {number}: every field needs a name; one is empty.")
                _check_name(key, number)
                stats[key] = ColumnStats(key)
            stats[key].observe_json(value)
        rows += 1
    if rows == 0:
        raise TableError("The file is empty: send JSON Lines with at least one object.")
    for column in stats.values():
        column.missing += rows - column.present
    return TableSummary("jsonl", rows, [c.summary() for c in stats.values()])
