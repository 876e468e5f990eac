"""The standard category tree: the problems the seeds name ("dirty, messy, poor, blocked, smelly",
脏乱差堵臭), grouped as the digital-city-management standards group events and components.

Each minor names the kind of department that fixes it (`fixer`), resolved to a real Department by
the caller (the demo seed maps fixers to the district bureaus it creates). Limits are hours of working
time on the city's calendar, except for the urgent minors of ON_THE_CLOCK, which run on clock time
(a missing manhole cover cannot wait for Monday); a minor without its own handle limit inherits its
major's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from layers.grids.models import Department
from layers.incidents.models import Category


@dataclass(frozen=True)
class Entry:
    code: str
    name_zh: str
    name_en: str
    fixer: str = ""
    handle_hours: int | None = None
    keywords: str = ""


# fixers: urban_management 城管, environment 生态环境, housing 住建, traffic_police 交警, transport 交通运输,
# water 水务, power 供电, gardens 园林, market 市场监管, fire 消防, public_security 公安, civil_affairs 民政
MAJORS = [
    Entry("01", "市容环境", "City appearance", "urban_management", 48),
    Entry("02", "街面秩序", "Street order", "urban_management", 24),
    Entry("03", "公共设施", "Public facilities", "housing", 72),
    Entry("04", "交通秩序", "Traffic order", "traffic_police", 24),
    Entry("05", "施工与违建", "Construction and illegal building", "housing", 120),
    Entry("06", "安全隐患", "Safety hazards", "fire", 12),
    Entry("07", "环境污染", "Pollution", "environment", 48),
    Entry("08", "园林绿化", "Greenery", "gardens", 72),
]

MINORS = [
    Entry("0101", "暴露垃圾", "Exposed rubbish", "urban_management", 24, "rubbish,garbage,垃圾"),
    Entry("0102", "积存垃圾渣土", "Accumulated waste and muck", "urban_management", 48, "muck,渣土"),
    Entry("0103", "小广告(牛皮癣)", "Illegal small ads (psoriasis)", "urban_management", 24, "ads,poster,牛皮癣"),
    Entry("0104", "乱涂乱画", "Graffiti", "urban_management", 48, "graffiti"),
    Entry("0105", "乱堆物料", "Materials piled on public space", "urban_management", 24, "piles"),
    Entry("0106", "垃圾桶满溢", "Overflowing bins", "urban_management", 12, "bin,overflow"),
    Entry("0107", "公厕脏乱", "Dirty public toilet", "urban_management", 12, "toilet,公厕"),
    Entry("0201", "占道经营", "Street stall blocking the road", "urban_management", 4, "stall,vendor,占道"),
    Entry("0202", "店外经营", "Business spilling out of the shop", "urban_management", 8, "shopfront"),
    Entry("0203", "流动摊贩", "Roving hawkers", "urban_management", 4, "hawker"),
    Entry("0204", "非法户外广告", "Unauthorised outdoor advertising", "urban_management", 72, "billboard"),
    Entry("0205", "露天烧烤", "Open-air barbecue", "urban_management", 4, "bbq,smoke"),
    Entry("0301", "道路破损", "Broken road surface", "transport", 72, "pothole,road"),
    Entry("0302", "井盖缺失", "Missing manhole cover", "water", 4, "manhole,井盖"),
    Entry("0303", "井盖破损", "Broken manhole cover", "water", 24, "manhole"),
    Entry("0304", "路灯不亮", "Broken street lamp", "power", 48, "lamp,light,路灯"),
    Entry("0305", "人行道破损", "Broken pavement", "housing", 72, "pavement,sidewalk"),
    Entry("0306", "护栏损坏", "Damaged guardrail", "transport", 48, "guardrail"),
    Entry("0307", "健身器材损坏", "Damaged fitness equipment", "civil_affairs", 96, "fitness"),
    Entry("0401", "乱停乱放", "Disorderly parking", "traffic_police", 4, "parking,乱停"),
    Entry("0402", "共享单车乱停", "Shared bikes parked in the way", "transport", 8, "bike"),
    Entry("0403", "交通信号灯故障", "Traffic light out of order", "traffic_police", 4, "signal"),
    Entry("0404", "占用盲道", "Tactile paving blocked", "traffic_police", 8, "blind path"),
    Entry("0501", "违法建设", "Illegal building", "urban_management", 168, "illegal building,违建"),
    Entry("0502", "施工围挡不规范", "Improper construction hoarding", "housing", 48, "hoarding"),
    Entry("0503", "夜间施工扰民", "Night-time construction", "environment", 12, "night work"),
    Entry("0504", "渣土车抛洒", "Muck truck spillage", "urban_management", 12, "truck,spill"),
    Entry("0601", "消防通道堵塞", "Blocked fire passage", "fire", 4, "fire lane,消防通道"),
    Entry("0602", "电动车违规充电", "Unsafe e-bike charging", "fire", 12, "e-bike,charging"),
    Entry("0603", "燃气泄漏隐患", "Gas leak hazard", "housing", 2, "gas"),
    Entry("0604", "危房隐患", "Dangerous building", "housing", 24, "dangerous building"),
    Entry("0701", "污水冒溢", "Sewage overflow", "water", 12, "sewage,污水"),
    Entry("0702", "噪声扰民", "Noise nuisance", "environment", 24, "noise,噪声"),
    Entry("0703", "油烟污染", "Cooking fume pollution", "environment", 48, "fumes"),
    Entry("0704", "水体污染", "Polluted water body", "environment", 72, "river,water"),
    Entry("0705", "焚烧垃圾", "Burning rubbish", "environment", 4, "burning"),
    Entry("0801", "绿地脏乱", "Littered green space", "gardens", 48, "park,green"),
    Entry("0802", "树木倒伏", "Fallen tree", "gardens", 6, "tree"),
    Entry("0803", "毁绿占绿", "Green space destroyed or occupied", "gardens", 72, "lawn"),
]

# Danger to life or limb: every stage counts clock time, nights and holidays included.
ON_THE_CLOCK = {"0302", "0601", "0603", "0802"}
STAGE_NAMES = ("register", "dispatch", "handle", "verify")

# Categories whose Open311 service definition asks for more than a description.
ATTRIBUTES = {
    "0302": [
        {
            "variable": True,
            "code": "DANGER",
            "datatype": "singlevaluelist",
            "required": True,
            "datatype_description": "Is anyone in danger now?",
            "order": 1,
            "description": "是否已有人员或车辆受到威胁 / Is anyone or any vehicle at risk?",
            "values": [{"key": "yes", "name": "是 yes"}, {"key": "no", "name": "否 no"}],
        }
    ],
    "0401": [
        {
            "variable": True,
            "code": "PLATE",
            "datatype": "string",
            "required": False,
            "datatype_description": "licence plate, e.g. 川E12345",
            "order": 1,
            "description": "车牌号 / licence plate",
        }
    ],
}


@transaction.atomic
def load_categories(*, fixers: dict[str, Department] | None = None) -> int:
    """Create or update the standard tree; `fixers` maps fixer kinds to default departments."""
    fixers = fixers or {}
    count = 0
    majors = {}
    for entry in MAJORS:
        majors[entry.code], _ = Category.objects.update_or_create(
            code=entry.code,
            defaults={
                "parent": None,
                "name_zh": entry.name_zh,
                "name_en": entry.name_en,
                "keywords": entry.keywords,
                "default_department": fixers.get(entry.fixer),
                "handle_hours": entry.handle_hours,
                "register_hours": 2,
                "dispatch_hours": 2,
                "verify_hours": 24,
            },
        )
        count += 1
    for entry in MINORS:
        Category.objects.update_or_create(
            code=entry.code,
            defaults={
                "parent": majors[entry.code[:2]],
                "name_zh": entry.name_zh,
                "name_en": entry.name_en,
                "keywords": entry.keywords,
                "default_department": fixers.get(entry.fixer),
                "handle_hours": entry.handle_hours,
                "attributes": ATTRIBUTES.get(entry.code, []),
                **{f"{stage}_clock": "clock" if entry.code in ON_THE_CLOCK else "" for stage in STAGE_NAMES},
            },
        )
        count += 1
    return count
