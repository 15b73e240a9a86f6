"""Imports go one way, as docs/architecture.md draws them: every import of every module (at module level,
under TYPE_CHECKING or inside a function) is checked against the page's rank table and its three rules."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "claret_errors"
DOC = ROOT / "docs" / "architecture.md"
ANALYSIS = ("load", "validate", "reconcile", "fix", "report")
CLIENT = ("claret_errors.claret.client", "httpx", "stamina")
SIMULATOR_USERS = ("cli", "demo", "simulator")
CLI_USERS = ("cli", "__main__")


def ranks(doc: str) -> dict[str, int]:
    """Module prefix (relative to the package, `claret_errors` for the package itself) -> rank, from the
    table under "What may import what"."""
    section = doc.split("## What may import what", 1)[1].split("\n## ", 1)[0]
    table: dict[str, int] = {}
    for rank, modules in re.findall(r"^\|\s*(\d+)\s*\|[^|]*\|([^|]*)\|\s*$", section, re.MULTILINE):
        for name in re.findall(r"`([^`]+)`", modules):
            table[name] = int(rank)
    return table


def module_name(path: Path, package: Path) -> str:
    """`claret_errors/load/job.py` -> `load.job`; the package's own `__init__` -> `claret_errors`."""
    parts = path.relative_to(package).with_suffix("").parts
    parts = parts[:-1] if parts[-1] == "__init__" else parts
    return ".".join(parts) or "claret_errors"


def rank_of(name: str, table: dict[str, int]) -> int | None:
    """The rank of the longest prefix of `name` the table places."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        if ".".join(parts[:cut]) in table:
            return table[".".join(parts[:cut])]
    return None


def imports(path: Path, name: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module) of each import in the file, relative ones resolved."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                here = ["claret_errors", *name.split(".")] if name != "claret_errors" else ["claret_errors"]
                base = here if is_package else here[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            if module == "claret_errors":  # takes x: a module, or `__version__`
                yield from ((node.lineno, f"claret_errors.{alias.name}") for alias in node.names)
            else:
                yield node.lineno, module


def violations(package: Path, table: dict[str, int]) -> list[str]:
    """Every import against the doc's rank table or its three rules, as `file:line: why`."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        name = module_name(path, package)
        rank = rank_of(name, table)
        where = path.relative_to(package.parent).as_posix()
        if rank is None:
            found.append(f"{where}: module {name!r} is in no row of the table in docs/architecture.md")
            continue
        top = name.split(".")[0]
        for line, target in imports(path, name):
            if top in ANALYSIS and any(target == c or target.startswith(c + ".") for c in CLIENT):
                found.append(f"{where}:{line}: analysis imports the HTTP client ({target})")
            if target != "claret_errors" and not target.startswith("claret_errors."):
                continue
            inner = target.removeprefix("claret_errors.") if target != "claret_errors" else target
            if inner.split(".")[0] == "simulator" and top not in SIMULATOR_USERS:
                found.append(f"{where}:{line}: only the entry points import the simulator ({target})")
            if inner.split(".")[0] == "cli" and top not in CLI_USERS:
                found.append(f"{where}:{line}: only `python -m claret_errors` imports the CLI ({target})")
            target_rank = rank_of(inner, table)
            if target_rank is not None and target_rank > rank:
                found.append(f"{where}:{line}: rank {rank} imports {target} (rank {target_rank})")
    return found


def test_imports_follow_the_table_in_docs_architecture() -> None:
    """A stage importing the CLI, the simulator or a later stage makes the layout lie: none may."""
    table = ranks(DOC.read_text(encoding="utf-8"))
    assert {"errors", "fetch", "pipeline", "cli", "simulator", "claret.client"} <= set(table)
    assert violations(PACKAGE, table) == []


@pytest.mark.parametrize(
    ("file", "source", "why"),
    [
        (
            "load/job.py",
            "from claret_errors.claret.client import ClaretClient\n",
            "analysis imports the HTTP",
        ),
        ("report/view.py", "def f() -> None:\n    import httpx\n", "analysis imports the HTTP client"),
        ("fetch.py", "from claret_errors.simulator import Simulator\n", "only the entry points"),
        ("pipeline.py", "def f() -> None:\n    from claret_errors.cli import main\n", "rank 11 imports"),
        ("reconcile/owners.py", "from ..report import write\n", "rank 6 imports claret_errors.report"),
        ("errors.py", "import claret_errors\n", "rank 0 imports claret_errors (rank 12)"),
        ("demo.py", "def f() -> None:\n    from claret_errors.cli import main\n", "only `python -m"),
        ("newstage.py", "", "in no row of the table"),
    ],
)
def test_a_violation_is_caught(tmp_path: Path, file: str, source: str, why: str) -> None:
    """The check fails on each kind of wrong import, so a passing check means something."""
    package = tmp_path / "claret_errors"
    target = package / file
    target.parent.mkdir(parents=True)
    (target.parent / "__init__.py").write_text("", encoding="utf-8")
    target.write_text(source, encoding="utf-8")
    found = violations(package, ranks(DOC.read_text(encoding="utf-8")))
    assert found and all(file in f for f in found) and any(why in f for f in found), found


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The cells of each row of the first table under `heading` (header and rule rows left out)."""
    section = text.split(heading, 1)[1].split("\n#", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row] for row in rows[2:]]


def test_both_exit_code_tables_list_exactly_the_codes_of_errors_exitcode() -> None:
    """The README (for users) and docs/architecture.md (for developers) each list every code once, and
    the architecture page names each by its `ExitCode` member: a code added in one place shows up here."""
    from claret_errors.errors import ExitCode

    readme = table_rows((ROOT / "README.md").read_text(encoding="utf-8"), "## Exit codes")
    architecture = table_rows(DOC.read_text(encoding="utf-8"), "## Exit codes")
    expected = sorted(code.value for code in ExitCode)
    assert sorted(int(row[0]) for row in readme) == expected
    assert sorted(int(row[0]) for row in architecture) == expected
    assert {int(row[0]): row[1].strip("`") for row in architecture} == {c.value: c.name for c in ExitCode}


def test_no_test_file_imports_another() -> None:
    """Shared fixtures live in conftest.py and helpers in helper modules, so a test file can move or go."""
    found = [
        f"{path.name}:{line}: {target}"
        for path in sorted((ROOT / "tests").glob("test_*.py"))
        for line, target in imports(path, path.stem)
        if target.startswith("test_")
    ]
    assert found == []
