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

# What each category covers, in a line, for the citizen choosing one (zh-hans, English).
DESCRIPTIONS = {
    "01": ("街面、空地上的垃圾、广告和乱涂乱画", "Rubbish, posters and graffiti in public space"),
    "02": ("占道摆摊、店外经营、户外广告和烧烤", "Stalls, shops spilling out, billboards, barbecues"),
    "03": ("道路、井盖、路灯、护栏等公共设施损坏", "Broken roads, covers, lamps, railings and the like"),
    "04": ("乱停车、信号灯故障、盲道被占", "Parking, traffic lights, blocked tactile paving"),
    "05": ("违法建设和施工中的问题", "Illegal building and problems with building sites"),
    "06": ("可能伤人的隐患：消防通道、燃气、危房", "Hazards that may hurt: fire lanes, gas, unsafe buildings"),
    "07": ("污水、噪声、油烟、水体污染、焚烧", "Sewage, noise, fumes, polluted water, burning"),
    "08": ("公园绿地脏乱、树木倒伏、绿地被毁", "Littered or damaged green space, fallen trees"),
    "0101": ("路边、空地上无人清理的垃圾", "Rubbish left lying by the road or on open ground"),
    "0102": ("长期堆积的垃圾、建筑渣土", "Waste or building muck piled up for a long time"),
    "0103": ("墙上、电杆上张贴或喷涂的小广告", "Small ads stuck or sprayed on walls and poles"),
    "0104": ("墙面、设施上的涂鸦", "Graffiti on walls or street furniture"),
    "0105": ("在人行道、公共场地堆放的物料", "Materials stacked on pavements or public ground"),
    "0106": ("垃圾桶已满、垃圾溢出", "A bin that is full and overflowing"),
    "0107": ("公共厕所脏、臭、设施坏", "A public toilet that is dirty, smelly or broken"),
    "0201": ("在道路、人行道上摆摊", "A stall set up on the road or pavement"),
    "0202": ("商铺把货物、桌椅摆到门外", "A shop putting goods, tables or chairs outside"),
    "0203": ("流动摊贩沿街叫卖", "Hawkers selling as they move along the street"),
    "0204": ("未经批准的广告牌、横幅", "Billboards or banners put up without a permit"),
    "0205": ("露天烧烤产生油烟", "Open-air barbecue with smoke and fumes"),
    "0301": ("路面坑洼、塌陷、开裂", "Potholes, subsidence or cracks in the road"),
    "0302": ("井盖不见了，有人或车掉落的危险", "A manhole cover is gone: people or vehicles may fall in"),
    "0303": ("井盖破裂、松动、下沉", "A manhole cover that is cracked, loose or sunken"),
    "0304": ("路灯夜间不亮或闪烁", "A street lamp that is out or flickering at night"),
    "0305": ("人行道砖松动、缺失", "Loose or missing paving slabs"),
    "0306": ("道路护栏倒伏、断裂", "A road guardrail that is down or broken"),
    "0307": ("小区、广场健身器材损坏", "Broken fitness equipment in a square or estate"),
    "0401": ("机动车乱停乱放、占道停车", "Cars parked where they block the way"),
    "0402": ("共享单车堆放、挡路", "Shared bikes piled up or blocking the way"),
    "0403": ("红绿灯不亮、常亮或乱闪", "A traffic light that is out, stuck or blinking"),
    "0404": ("盲道被车辆、杂物占用", "Tactile paving blocked by vehicles or things"),
    "0501": ("未经批准的搭建、加建", "Building or extending without a permit"),
    "0502": ("施工围挡破损、缺失或占道", "Site hoarding broken, missing or on the road"),
    "0503": ("夜间施工噪声影响休息", "Building work at night that keeps people awake"),
    "0504": ("渣土车沿路撒落泥土", "A muck truck dropping soil along the road"),
    "0601": ("消防通道被车辆、杂物堵住", "A fire lane blocked by vehicles or clutter"),
    "0602": ("楼道内给电动车充电、飞线充电", "E-bikes charged in stairwells or by trailing cables"),
    "0603": ("闻到燃气味、燃气管道损坏", "A smell of gas or a damaged gas pipe"),
    "0604": ("房屋开裂、倾斜、有倒塌危险", "A building cracked or leaning, at risk of collapse"),
    "0701": ("污水从井口、管道冒出", "Sewage coming up from drains or pipes"),
    "0702": ("商铺、娱乐场所噪声扰民", "Noise from shops or entertainment venues"),
    "0703": ("餐馆油烟直排", "Kitchen fumes blown straight out by a restaurant"),
    "0704": ("河道、池塘发黑发臭、有漂浮物", "A river or pond that is black, smelly or littered"),
    "0705": ("露天焚烧垃圾、秸秆", "Rubbish or straw burnt in the open"),
    "0801": ("绿地内垃圾、杂物", "Rubbish or clutter in a green space"),
    "0802": ("树木倒下、断枝挡路", "A fallen tree or broken branches in the way"),
    "0803": ("绿地被踩踏、占用、毁坏", "Green space trampled, occupied or destroyed"),
}
# Danger to life or limb: every stage counts clock time, nights and holidays included.
ON_THE_CLOCK = {"0302", "0601", "0603", "0802"}
STAGE_NAMES = ("confirm", "register", "dispatch", "handle", "verify")

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
def _described(entry, fixers: dict) -> dict:
    """What a major and a minor category share: names, description, keywords, fixer, handling time."""
    description_zh, description_en = DESCRIPTIONS.get(entry.code, ("", ""))
    return {
        "name_zh": entry.name_zh,
        "name_en": entry.name_en,
        "description_zh": description_zh,
        "description_en": description_en,
        "keywords": entry.keywords,
        "default_department": fixers.get(entry.fixer),
        "handle_hours": entry.handle_hours,
    }


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
                **_described(entry, fixers),
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
                **_described(entry, fixers),
                "attributes": ATTRIBUTES.get(entry.code, []),
                **{f"{stage}_clock": "clock" if entry.code in ON_THE_CLOCK else "" for stage in STAGE_NAMES},
            },
        )
        count += 1
    return count
