"""The floors hold: the import contract passes and catches an upward import; the registries that replace
cross-imports hold what every layer declared."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.gis.db.models import GeometryField
from django.db import connection

from common import overlays, publishing, scopes

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = ROOT / ".venv" / "bin" / "lint-imports"
PACKAGES = ("gridgis", "fixtures", "maps", "office", "layers", "common")


def _lint(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(where / ".importlinter"), "--no-cache"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(where)},
    )


@pytest.fixture
def tree_copy(tmp_path):
    """The project's packages and contract, copied, so a probe can be added without touching the tree."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_import_contract_is_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "probe, importer, imported",
    [
        # grids is below accounts; common is the ground floor.
        ("layers/grids/probe.py", "layers.grids", "layers.accounts"),
        ("common/probe.py", "common", "layers.grids"),
        # incidents, inspections and estates stand side by side: none may import another.
        ("layers/estates/probe.py", "layers.estates", "layers.incidents"),
        ("layers/incidents/probe.py", "layers.incidents", "layers.audits"),
    ],
)
def test_an_upward_import_breaks_the_contract(tree_copy, probe, importer, imported):
    (tree_copy / probe).write_text(f"import {imported}.models  # a throwaway upward import\n")
    result = _lint(tree_copy)
    assert result.returncode == 1, result.stdout
    assert f"{importer} is not allowed to import {imported}" in result.stdout


def test_an_import_cycle_inside_a_layer_breaks_the_contract(tree_copy):
    # models.py imports querysets.py; a querysets module importing models back closes a cycle.
    path = tree_copy / "layers/inspections/querysets.py"
    path.write_text(path.read_text() + "\nfrom layers.inspections import models as _cycle  # noqa\n")
    result = _lint(tree_copy)
    assert result.returncode == 1, result.stdout
    assert "No import cycles" in result.stdout and "BROKEN" in result.stdout


def test_every_layer_registered_its_visibility_rules():
    assert scopes.registered_kinds() == sorted(
        [
            "grid",
            "case",
            "overlay_case",
            "point",
            "patrol",
            "schedule",
            "estate",
            "suggestion",
            "project",
            "work_item",
            "audit",
        ]
    )
    with pytest.raises(LookupError, match="no layer registered a visibility rule 'nonsense'"):
        scopes.rule_for("nonsense")


def test_a_rule_registered_twice_differently_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        scopes.register_rule("case", scopes.Rule(frozenset({scopes.ADMIN})))


def test_every_collection_publishes_a_geometry_under_a_registered_rule():
    for collection in publishing.collections():
        model = collection.model_class()
        assert isinstance(model._meta.get_field(collection.geometry), GeometryField), collection.id
        assert collection.kind in scopes.registered_kinds(), collection.id
        # Every published property resolves on the model (a typo would fail on the first request).
        for name in collection.property_names():
            lookup = collection.lookup_of(name)
            model.objects.values(lookup).query  # noqa: B018 (resolving the lookup raises on a typo)
    assert {c.model_class()._meta.app_label for c in publishing.collections()} == {
        "grids",
        "incidents",
        "inspections",
        "estates",
        "audits",
    }
    assert apps.is_installed("maps")


def test_the_overlay_asks_the_incidents_layer_for_its_cases():
    assert overlays.reader_names() == ["cases"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "patterns, code, expected",
    [
        (None, "510502001", True),  # a reader who sees every grid
        ([], "510502001", False),  # a reader who sees none
        (["510502%"], "510502001002", True),  # inside a subtree
        (["510502%"], "510503001", False),
        (["510502001"], "510502001", True),  # an exact code (an ancestor a rule lets in)
        (["510502001"], "510502001002", False),
    ],
)
def test_the_one_sql_scope_predicate(patterns, code, expected):
    with connection.cursor() as cursor:
        cursor.execute("SELECT gridgis_in_scope(%s, %s)", [code, patterns])
        assert cursor.fetchone()[0] is expected


def test_sql_params_follow_the_rule():
    officer = scopes.Scope(user_id=7, person_id=3, roles=frozenset({scopes.OFFICER}), grid_prefixes=("510502001",))
    assert officer.sql_params("case") == {
        "scope_patterns": ["510502001%"],
        "scope_department": None,
        "scope_reporter": 7,
        "scope_person": None,
    }
    assert officer.sql_params("patrol")["scope_person"] == 3
    # A schedule of the district or the street concerns the officer of one of their grids.
    assert officer.code_patterns("schedule") == ["510502", "510502001%"]
    assert scopes.EVERYTHING.sql_params("case")["scope_patterns"] is None
