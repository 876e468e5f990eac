"""Ledgers (台账) for supervisors: audit findings and assessment tables as .xlsx and CSV, Chinese headers.

Names and codes come from users, so a cell must never turn into a formula: in the workbook every
text cell is written with the string type forced (openpyxl otherwise makes "=..." a formula), and in
the CSV a text that a spreadsheet would read as a formula (starting with = + - @ or a tab/CR) gets a
leading apostrophe, the usual neutralisation. Numbers stay numbers so that the ledger can be summed.
The CSV starts with a UTF-8 byte-order mark so that Excel opens the Chinese headers correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font

from layers.audits.models import AuditRun, Kind, Unit
from layers.audits.selectors import findings_for_ledger

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

FINDING_HEADERS = ["序号", "类型", "量值", "单位", "网格编码", "网格名称", "相关网格编码", "区县编码", "说明", "经度", "纬度"]

_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def _describe(finding) -> str:
    detail = finding.detail or {}
    if finding.kind == Kind.GAP:
        return "上级网格内未被任何下级网格覆盖的区域"
    if finding.kind == Kind.OVERLAP:
        return f"与同级网格 {finding.other_grid_code} {detail.get('other_grid_name', '')} 重叠".rstrip()
    if finding.kind == Kind.OUTSIDE_PARENT:
        return f"超出上级网格 {finding.other_grid_code} 的部分"
    if finding.kind == Kind.ORPHAN:
        names = {"leader": "包片领导", "officer": "网格员"}
        return "缺少在岗" + "、".join(names.get(d, d) for d in detail.get("missing", []))
    return ""


def finding_rows(run: AuditRun, *, kind: str | None = None, bbox_wkt: str | None = None) -> Iterable[list]:
    """The ledger's rows, in FINDING_HEADERS order."""
    rows = findings_for_ledger(run, kind=kind, bbox_wkt=bbox_wkt).iterator()
    for number, finding in enumerate(rows, start=1):
        anchor = finding.anchor
        yield [
            number,
            Kind(finding.kind).label_zh,
            round(finding.measure, 2),
            Unit(finding.unit).label.split(" ", 1)[0],
            finding.grid_code,
            finding.grid_name,
            finding.other_grid_code,
            finding.district_code,
            _describe(finding),
            round(anchor.x, 6) if anchor else None,
            round(anchor.y, 6) if anchor else None,
        ]


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence], *, title: str) -> bytes:
    """A one-sheet workbook; text cells forced to strings so that no value becomes a formula."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            if value is None:
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.value = value
            else:
                # Assigning first and forcing the type after: openpyxl's setter guesses "f" for "=...".
                cell.value = str(value)
                cell.data_type = TYPE_STRING
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv_safe(value) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_LEADS):
        return "'" + value
    return "" if value is None else value


def write_csv(headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """CSV in UTF-8 with a byte-order mark (for Excel), formula-looking text neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_safe(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def findings_xlsx(run: AuditRun, *, kind: str | None = None, bbox_wkt: str | None = None) -> bytes:
    return write_xlsx(FINDING_HEADERS, finding_rows(run, kind=kind, bbox_wkt=bbox_wkt), title=f"死角排查台账{run.pk}")


def findings_csv(run: AuditRun, *, kind: str | None = None, bbox_wkt: str | None = None) -> bytes:
    return write_csv(FINDING_HEADERS, finding_rows(run, kind=kind, bbox_wkt=bbox_wkt))
