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

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font

from common.xmltext import xml_safe
from layers.audits.models import AuditRun, Kind, Unit
from layers.audits.selectors import findings_for_ledger

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

FINDING_HEADERS = [
    "序号",
    "类型",
    "量值",
    "单位",
    "网格编码",
    "网格名称",
    "相关网格编码",
    "区县编码",
    "说明",
    "经度",
    "纬度",
]

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
    if finding.kind == Kind.HOTSPOT:
        return (
            f"{detail.get('category_name', '')}: {int(finding.measure)} 件, {detail.get('metres', '')} 米内, "
            f"近 {detail.get('days', '')} 天"
        )
    if finding.kind == Kind.UNOWNED_POINT:
        names = {"micro_grid": "不在任何微网格内", "leader": "无包片领导", "department": "无包保部门"}
        return f"点位 {detail.get('point_name', '')}: " + "、".join(names.get(m, m) for m in detail.get("missing", []))
    if finding.kind == Kind.STALE:
        what = f"点位 {detail.get('point_name', '')}" if detail.get("what") == "point" else "网格"
        return f"{what} {int(finding.measure)} 天未巡查" + ("（从未巡查）" if detail.get("never") else "")
    if finding.kind == Kind.UNCOVERED_ESTATE:
        if detail.get("reason") == "no_leader":
            return f"小区 {detail.get('estate_name', '')} 改造中，社区无包片领导"
        return f"小区 {detail.get('estate_name', '')} 部分不在任何微网格内"
    if finding.kind == Kind.DEAD_CORNER_CASE:
        return (
            f"案件 {finding.case_id or detail.get('case_id', '')} {detail.get('category_name', '')} "
            f"{detail.get('address', '')} 不在任何网格内"
        ).strip()
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


def _fill(sheet, headers: Sequence[str], rows: Iterable[Sequence]) -> None:
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            if value is None:
                continue
            cell = sheet.cell(row=r, column=c)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.value = value
            else:
                # Assigning first and forcing the type after: openpyxl's setter guesses "f" for "=...".
                cell.value = xml_safe(str(value))  # a workbook is XML: no vertical tabs and the like
                cell.data_type = TYPE_STRING
    sheet.freeze_panes = "A2"


def write_xlsx(
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    title: str,
    more: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]] = (),
) -> bytes:
    """A workbook: sheet `title`, then any (title, headers, rows) in `more`; text cells never formulas."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    _fill(sheet, headers, rows)
    for extra_title, extra_headers, extra_rows in more:
        _fill(book.create_sheet(extra_title[:31]), extra_headers, extra_rows)
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


ASSESSMENT_HEADERS = [
    "排名",
    "单位编码",
    "单位名称",
    "受理数",
    "立案数",
    "应结案数",
    "结案数",
    "按期结案数",
    "派遣数",
    "退回数",
    "处置数",
    "返工数",
    "超期数",
    "扣分",
    "立案率",
    "结案率",
    "按期结案率",
    "返工率",
    "派遣准确率",
    "得分",
    "参与排名",
]
NOTICE_HEADERS = [
    "排名",
    "单位编码",
    "单位名称",
    "得分",
    "超期数",
    "案件编号",
    "类别",
    "状态",
    "网格编码",
    "地址",
    "上报时间",
    "结案时限",
]


def _percent(rate) -> float | None:
    return None if rate is None else round(100 * rate, 2)


def assessment_rows(result) -> Iterable[list]:
    """The assessment table in ASSESSMENT_HEADERS order (rates in %)."""
    for row in result.rows:
        yield [
            row["rank"] if row["ranked"] else "未排名(样本不足)",
            row["unit_code"],
            row["unit_name"],
            row["received"],
            row["registered"],
            row["due"],
            row["closed"],
            row["on_time"],
            row["dispatched"],
            row["returned"],
            row["handled"],
            row["reworked"],
            row["overdue"],
            row["deductions"],
            _percent(row["register_rate"]),
            _percent(row["closure_rate"]),
            _percent(row["on_time_rate"]),
            _percent(row["rework_rate"]),
            _percent(row["accurate_dispatch_rate"]),
            row["score"],
            "是" if row["ranked"] else "否",
        ]


def notice_rows(result) -> Iterable[list]:
    """The notice list (通报), one line per overdue case of each of the worst units."""
    for row in result.notice:
        head = [row["rank"], row["unit_code"], row["unit_name"], row["score"], row["overdue"]]
        if not row["overdue_cases"]:
            yield head + ["", "", "", "", "", "", ""]
        for case in row["overdue_cases"]:
            yield head + [
                case["id"],
                case["category_name"],
                case["status"],
                case["grid_code"],
                case["address"],
                _local(case["reported_at"]),
                _local(case["final_due_at"]),
            ]


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def assessment_xlsx(result) -> bytes:
    """The table on one sheet and the notice list (通报) on a second, both with text-only cells."""
    return write_xlsx(
        ASSESSMENT_HEADERS,
        assessment_rows(result),
        title=f"考核{result.period.label}",
        more=[("通报", NOTICE_HEADERS, notice_rows(result))],
    )


def assessment_csv(result) -> bytes:
    return write_csv(ASSESSMENT_HEADERS, assessment_rows(result))
