"""The team's deals and their event log as an XLSX workbook (two sheets) and a CSV of the deals
(UTF-8 with a BOM and `;`, so Excel in Poland, Russia and Romania opens it as columns)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

Row = list[Any]


def _plain(value: Any, tz: Any) -> Any:
    """Excel has no time zones: moments are written as local wall times."""
    if isinstance(value, datetime):
        return value.astimezone(tz).replace(tzinfo=None)
    return value


def workbook(
    sheets: list[tuple[str, list[str], list[Row]]], tz: Any, widths: Callable[[str], int] = len
) -> bytes:
    from openpyxl import Workbook  # imported here: it pulls in numpy and PIL (~18 MB)

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, headers, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append(headers)
        for row in rows:
            sheet.append([_plain(value, tz) for value in row])
        for index, header in enumerate(headers, start=1):
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(
                12, widths(header) + 2
            )
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(headers: list[str], rows: list[Row], tz: Any) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        values = [_plain(value, tz) for value in row]
        writer.writerow(
            [
                ""
                if value is None
                else value.strftime("%Y-%m-%d %H:%M")
                if isinstance(value, datetime)
                else value
                for value in values
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")
