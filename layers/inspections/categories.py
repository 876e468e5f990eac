"""The kinds of inspection point (实地考察点位类别): 36 of the 42 on Jiangyang's register, the places that
city-appearance inspections (创文/创卫 实地考察) visit, as (code, Chinese name, English name).

Migration 0002 inserts a frozen copy of this list; `ensure_categories()` puts back any that are
missing (after a `flush`, as `seed_demo --reset` does) without touching ones a deployment edited.
"""

from __future__ import annotations

from django.db import transaction

CATEGORIES = [
    ("farmers-market", "农贸市场", "farmers' market"),
    ("back-lane", "背街小巷", "back lane"),
    ("park", "城市公园", "park"),
    ("square", "城市广场", "public square"),
    ("school-surroundings", "中小学校周边", "school surroundings"),
    ("kindergarten-surroundings", "幼儿园周边", "kindergarten surroundings"),
    ("railway-station", "火车站", "railway station"),
    ("coach-station", "长途汽车站", "coach station"),
    ("bus-stop", "公交站台", "bus stop"),
    ("hospital", "医院", "hospital"),
    ("public-toilet", "公共厕所", "public toilet"),
    ("construction-site", "建筑工地", "construction site"),
    ("main-road", "主次干道", "main road"),
    ("commercial-street", "商业大街", "commercial street"),
    ("residential-community", "居民小区", "residential estate"),
    ("old-estate", "老旧院落", "old courtyard estate"),
    ("urban-village", "城中村", "urban village"),
    ("urban-rural-fringe", "城乡结合部", "urban-rural fringe"),
    ("small-restaurant", "小餐饮店", "small restaurant"),
    ("hotel", "宾馆酒店", "hotel"),
    ("internet-cafe", "网吧", "internet café"),
    ("entertainment-venue", "歌舞娱乐场所", "karaoke and entertainment venue"),
    ("supermarket-mall", "商场超市", "supermarket and mall"),
    ("library", "图书馆", "library"),
    ("museum-cultural-centre", "文化馆博物馆", "museum and cultural centre"),
    ("stadium", "体育场馆", "stadium"),
    ("government-service-hall", "政务服务中心", "government service hall"),
    ("bank-branch", "银行网点", "bank branch"),
    ("petrol-station", "加油站", "petrol station"),
    ("riverside", "滨江路河道", "riverside and river course"),
    ("waste-transfer-station", "垃圾中转站", "waste transfer station"),
    ("car-park", "停车场", "car park"),
    ("civilisation-practice-station", "新时代文明实践站", "civilisation practice station"),
    ("scenic-spot", "旅游景区", "scenic spot"),
    ("express-delivery-point", "快递物流网点", "express delivery point"),
    ("elderly-care-home", "养老机构", "elderly care home"),
]


@transaction.atomic
def ensure_categories() -> int:
    """Create the listed categories that do not exist yet; returns how many were created."""
    from layers.inspections.models import InspectionCategory

    existing = set(InspectionCategory.objects.values_list("code", flat=True))
    missing = [
        InspectionCategory(code=code, name=name, name_en=name_en, sort_order=order)
        for order, (code, name, name_en) in enumerate(CATEGORIES, start=1)
        if code not in existing
    ]
    InspectionCategory.objects.bulk_create(missing)
    return len(missing)
