"""A report as a file to download: CSV (UTF-8 with a byte-order mark, so spreadsheet
programs read å, ä and ö) or an Excel workbook (openpyxl): the rows under headers in the
reader's language, and the totals (a second sheet in the workbook)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from services.booking.commands import ReportQuery
from services.booking.entrypoints.report_words import HEADINGS, NAMES
from services.booking.readmodels import Report
from shared.messages import N_, text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
MEDIA = {"csv": CSV, "xlsx": XLSX}


def heading(column: str, language: str) -> str:
    """A column's header in ``language``."""
    return text(HEADINGS[column], language)


def _cell(value: Any) -> Any:
    return "" if value is None else value


def as_csv(report: Report, language: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([heading(c, language) for c in report.columns])
    for row in report.rows:
        writer.writerow([_cell(row.get(c)) for c in report.columns])
    return ("\ufeff" + out.getvalue()).encode()


def as_xlsx(report: Report, language: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = text(NAMES[report.name], language)[:31]
    sheet.append([heading(c, language) for c in report.columns])
    for row in report.rows:
        sheet.append([_cell(row.get(c)) for c in report.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    totals = book.create_sheet(text(N_("report_totals"), language)[:31])
    for key, value in report.totals.items():
        totals.append([heading(key, language), _cell(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(report: Report, query: ReportQuery, kind: str, language: str) -> Response:
    """The report as an attachment named for it and its period."""
    body = as_csv(report, language) if kind == "csv" else as_xlsx(report, language)
    name = f"{report.name}-{report.group}-{query.first}-{query.last}.{kind}"
    response = Response(body, mimetype=MEDIA[kind])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
