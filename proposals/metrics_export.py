"""The office statistics (``metrics.Report``) as files: CSV (UTF-8 with a byte-order mark, so that Excel
reads the Chinese) and Excel (openpyxl). One table per file section: the whole, each bureau, each step of
the trend. Rates are fractions (0.75), empty where they have no denominator."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from proposals.metrics import Figures, Report

CLASSES = ("A", "B", "C", "D")
RATES = ("reply_rate", "on_time_rate", "communication_rate", "satisfaction_rate")
Cell = str | int | float | None


def header() -> list[str]:
    return [
        _("Section"),
        _("Bureau or period"),
        _("Assigned"),
        _("Replied"),
        _("Replied on time"),
        _("Replied after communicating"),
        _("Ratings of the result"),
        _("Satisfied or basically satisfied"),
        _("Reply rate"),
        _("On-time reply rate"),
        _("Communication rate"),
        _("Satisfaction rate"),
        *CLASSES,
    ]


def _cells(figures: Figures) -> list[Cell]:
    counts: list[Cell] = [
        figures.assigned,
        figures.replied,
        figures.on_time,
        figures.communicated,
        figures.ratings,
        figures.satisfied,
    ]
    rates: list[Cell] = [getattr(figures, name) for name in RATES]
    return [*counts, *rates, *(figures.classes.get(c, 0) for c in CLASSES)]


def rows(report: Report) -> Iterator[list[Cell]]:
    """The whole, then each bureau, then each step of the trend: section, name, then the figures."""
    yield [_("Overall"), _("All bureaus"), *_cells(report.overall)]
    for bureau in report.per_bureau:
        yield [_("By bureau"), bureau.bureau_name, *_cells(bureau.figures)]
    for period in report.over_time:
        yield [_("Over time"), period.name, *_cells(period.figures)]


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header())
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows(report))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: Report) -> bytes:
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = _("Statistics")
    sheet.append(header())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    first_rate = 2 + 6  # section, name, six counts
    for row in rows(report):
        sheet.append(row)
        for cell in sheet[sheet.max_row][first_rate : first_rate + len(RATES)]:
            cell.number_format = "0.0%"
    sheet.freeze_panes = "C2"
    sheet.column_dimensions["B"].width = 24
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
