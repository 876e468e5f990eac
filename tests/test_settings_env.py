"""The README's table of environment variables is the list the code reads, with the code's defaults.

The reads are found in the source of gridgis/ (settings, the local-database helper and any other
module there): os.environ.get / os.getenv / os.environ[...] and the settings' env_bool / env_int.
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
READERS = {"os.environ.get", "os.getenv", "env_bool", "env_int", "env_list"}
ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Pow: operator.pow}
NO_DEFAULT = object()  # the default is not a constant (a path, or no default at all)


@dataclass(frozen=True)
class Read:
    name: str
    default: object
    where: str


def constant(node: ast.AST):
    """The value of a literal or of arithmetic on literals (2 * 1024 * 1024), else NO_DEFAULT."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
        left, right = constant(node.left), constant(node.right)
        if NO_DEFAULT not in (left, right):
            return ARITHMETIC[type(node.op)](left, right)
    return NO_DEFAULT


def nodes_outside_the_readers(tree: ast.AST):
    """Every node but those inside `def env_bool` / `def env_int` (which read the name they are given)."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.FunctionDef) and child.name in READERS:
            continue
        yield child
        yield from nodes_outside_the_readers(child)


def reads_in(source: str, label: str) -> list[Read]:
    found = []
    for node in nodes_outside_the_readers(ast.parse(source)):
        where = f"{label}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and ast.unparse(node.func) in READERS and node.args:
            name = constant(node.args[0])
            default = constant(node.args[1]) if len(node.args) > 1 else NO_DEFAULT
            found.append(Read(name, default, where))
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            found.append(Read(constant(node.slice), NO_DEFAULT, where))
    return found


def code_reads() -> dict[str, Read]:
    reads = {}
    for path in sorted((BASE_DIR / "gridgis").glob("*.py")):
        for read in reads_in(path.read_text(encoding="utf-8"), str(path.relative_to(BASE_DIR))):
            assert isinstance(read.name, str), f"{read.where}: read a variable whose name is not a literal"
            if read.name not in reads or reads[read.name].default is NO_DEFAULT:
                reads[read.name] = read
    return reads


def readme_table() -> dict[str, str]:
    """variable -> its default cell, from the README's "Environment variables" table."""
    text = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Environment variables\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.fullmatch(r"\| `([A-Z][A-Z0-9_]*)` \| (.*?) \| (.+) \|", line)
        if match:
            assert match[1] not in rows, f"{match[1]} is in the README's table twice"
            rows[match[1]] = match[2]
    return rows


def documented_default(cell: str):
    """The README's default as the code would spell it: `600` -> 600, `false` -> False, `""` -> ""."""
    match = re.fullmatch(r"`(.*)`", cell)
    if not match:
        return cell
    value = match[1]
    if value == '""':
        return ""
    if value in ("true", "false"):
        return value == "true"
    try:
        return float(value)
    except ValueError:
        return value


def test_the_readme_lists_exactly_the_variables_the_code_reads():
    reads, table = code_reads(), readme_table()
    assert len(reads) > 30  # the reader finds the settings' reads at all
    missing = sorted(set(reads) - set(table))
    assert not missing, f"read by the code, not in the README's table: {missing}"
    unread = sorted(set(table) - set(reads))
    assert not unread, f"in the README's table, read by no code: {unread}"


def test_the_readme_gives_the_defaults_the_code_uses():
    table = readme_table()
    for name, read in code_reads().items():
        if read.default is NO_DEFAULT:
            continue
        expected = float(read.default) if type(read.default) in (int, float) else read.default
        assert documented_default(table[name]) == expected, f"{name}: the README says {table[name]}, {read.where}"


def test_the_reader_finds_each_way_of_reading_a_variable():
    source = (
        "def env_int(name, default):\n    return int(os.environ.get(name, default))\n"
        'A = os.environ.get("ONE", 2 * 1024)\nB = env_bool("TWO", False)\nC = env_int("THREE", 5)\n'
        'D = os.environ["FOUR"]\nE = os.getenv("FIVE", Path("x"))\n'
    )
    found = {read.name: read.default for read in reads_in(source, "sample")}
    assert found == {"ONE": 2048, "TWO": False, "THREE": 5, "FOUR": NO_DEFAULT, "FIVE": NO_DEFAULT}
