"""Place search over the project's own names: streets, communities, grids, and whatever the layers above
register (estates, inspection points). The citizen's report page and Open311's `address_string` use it.

The layers that own named places register a `PlaceSource` in their AppConfig.ready(), as
admin.site.register works, so this module never names a layer above the grids.

Matching runs in PostgreSQL with pg_trgm (a GIN trigram index on each searched name column):
- `similarity` and `word_similarity` find misspelt names ("Binjaing" → "Binjiang", "宾江路社区" →
  "滨江路社区"). pg_trgm takes a character into trigrams only if the database's LC_CTYPE calls it
  alphanumeric: on this project's clusters (UTF-8, C.UTF-8 or xx_XX.UTF-8) Chinese characters are,
  which tests/test_places.py checks with show_trgm.
- Chinese names carry no spaces, so a Chinese name is one long "word" to pg_trgm: a query from the
  middle of a name ("江路" in "滨江路社区") shares no trigram with it, and a short misspelt name
  ("南成街道" against "南城街道": 2 of 8 trigrams) falls under any useful threshold. So a name also
  matches if it contains the query (LIKE, served by the same trigram index for 3+ characters), or, for
  a query with a run of 3+ Chinese characters, if it contains at least a third of the query's
  character pairs (bigrams: "南成街道" → 南成, 成街, 街道; one of three is in "南城街道").
The score orders the answers: the better of the two trigram similarities, plus the share of the
query's character pairs found, plus a bonus for a name that starts with or contains the query
("南城街道" scores 0.25 + 0.33 for "南成街道", its neighbour "北城街道" 0.11 + 0.33).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import add

from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db.models import Case, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Greatest

# A run of Chinese characters (CJK unified ideographs and extension A).
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{3,}")
# A name matches by similarity from these scores (pg_trgm's own defaults are 0.3 and 0.6; Chinese
# names are short, so a single wrong character already costs a third of the trigrams).
MIN_SIMILARITY = 0.3
MIN_WORD_SIMILARITY = 0.5
PREFIX_BONUS = 0.6
CONTAINS_BONUS = 0.4
MAX_QUERY_LENGTH = 50
MAX_RESULTS = 20


@dataclass(frozen=True)
class PlaceSource:
    """Named places of one layer.

    `queryset()` answers the places the public may see, annotated with `place_kind` (a key of
    `kinds`), `place_name`, `place_context` (what the place lies in, e.g. its community; '' if none)
    and `place_point` (a point on or in the place, EPSG:4326). `name_field` is the searched column,
    the one with the GIN trigram index.
    """

    key: str
    kinds: dict[str, str]
    name_field: str
    queryset: Callable[[], QuerySet]


_SOURCES: dict[str, PlaceSource] = {}


def register(source: PlaceSource) -> None:
    """Add (or replace, on a reload) a layer's named places."""
    _SOURCES[source.key] = source


def sources() -> list[PlaceSource]:
    return [_SOURCES[key] for key in sorted(_SOURCES)]


def kind_labels() -> dict[str, str]:
    return {kind: label for source in sources() for kind, label in source.kinds.items()}


@dataclass(frozen=True)
class Place:
    kind: str
    name: str
    context: str
    point: object
    score: float


def bigrams(query: str) -> list[str]:
    """The distinct character pairs of the query's runs of 3+ Chinese characters, in order."""
    pairs: list[str] = []
    for run in CJK_RUN.findall(query):
        pairs.extend(run[i : i + 2] for i in range(len(run) - 1))
    return list(dict.fromkeys(pairs))


def _scored(source: PlaceSource, query: str) -> QuerySet:
    """The source's places that match `query`, with `place_score`, best first."""
    pairs = bigrams(query)
    similarity = Greatest(TrigramSimilarity(source.name_field, query), TrigramWordSimilarity(query, source.name_field))
    matches = (
        Q(**{f"{source.name_field}__contains": query})
        | Q(**{f"{source.name_field}__trigram_similar": query})
        | Q(**{f"{source.name_field}__trigram_word_similar": query})
    )
    queryset = source.queryset().alias(place_similarity=similarity)
    if pairs:
        hits = reduce(
            add,
            [
                Case(When(**{f"{source.name_field}__contains": pair}, then=Value(1.0)), default=Value(0.0))
                for pair in pairs
            ],
        )
        queryset = queryset.alias(place_pairs=hits / Value(float(len(pairs))))
        matches |= Q(place_pairs__gte=math.ceil(len(pairs) / 3) / len(pairs))
        similarity = F("place_similarity") + F("place_pairs")
    else:
        similarity = F("place_similarity")
    bonus = Case(
        When(**{f"{source.name_field}__istartswith": query}, then=Value(PREFIX_BONUS)),
        When(**{f"{source.name_field}__icontains": query}, then=Value(CONTAINS_BONUS)),
        default=Value(0.0),
    )
    return (
        queryset.filter(matches)
        .annotate(place_score=Cast(similarity + bonus, FloatField()))
        .order_by("-place_score", "place_name")
    )


def search(query: str, limit: int = 10) -> list[Place]:
    """The places whose names best match `query` across every registered source, best first.

    One query: each source's best `limit` matches, united and cut to the best `limit`; equal scores
    are ordered by name and kind so that the answer is the same on every call.
    """
    # Control characters (a NUL above all, which PostgreSQL refuses in a text parameter) name nothing.
    query = "".join(ch for ch in query if ch.isprintable()).strip()
    if not query or not _SOURCES:
        return []
    limit = max(1, min(limit, MAX_RESULTS))
    parts = [
        _scored(source, query[:MAX_QUERY_LENGTH]).values_list(
            "place_kind", "place_name", "place_context", "place_point", "place_score"
        )[:limit]
        for source in sources()
    ]
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return [Place(*row) for row in rows.order_by("-place_score", "place_name", "place_kind")[:limit]]
