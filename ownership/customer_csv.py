"""Read a CRM export into `CustomerRow`s: the delimiter is sniffed (comma, semicolon, tab or bar), the header
names the columns (`name`, `tier`, `external id`, `owner`, any case, `_` for a space), and text that is not
UTF-8 is refused with the line it is on, never a raw codec error."""

from __future__ import annotations

import csv
import io

from .errors import InvalidInput
from .onboarding import CustomerRow

DELIMITERS = ",;\t|"
SAMPLE = 64 * 1024


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise InvalidInput(
            f"line {line}: byte 0x{data[error.start]:02x} at column {column} is not UTF-8 text. "
            "Save the file as UTF-8 (in Excel: CSV UTF-8) and import it again."
        ) from None


def sniff_delimiter(text: str) -> str:
    sample = text[:SAMPLE]
    header = sample.splitlines()[0] if sample else ""
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column, or too few rows to tell: the header's most frequent delimiter, else a comma
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_customer_rows(data: bytes) -> list[CustomerRow]:
    text = decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    columns = {c.strip().lower().replace("_", " "): c for c in reader.fieldnames or [] if c}
    if "name" not in columns:
        raise InvalidInput("The CSV needs a header row with at least a `name` column (and tier, external id, owner).")

    def cell(record: dict[str, str], column: str) -> str:
        original = columns.get(column)
        return (record.get(original) or "") if original else ""

    try:
        return [
            CustomerRow(
                line=reader.line_num,
                name=cell(r, "name"),
                tier=cell(r, "tier"),
                external_id=cell(r, "external id"),
                owner=cell(r, "owner"),
            )
            for r in reader
        ]
    except csv.Error as error:
        raise InvalidInput(f"line {reader.line_num}: {error}") from None
