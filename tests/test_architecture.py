"""The house rules of docs/architecture.md are checked, not only written.

- The import contracts (``[tool.importlinter]`` in pyproject.toml, run by ``make lint``) hold for the tree, and
  they do fail on a forbidden import and on an import that makes a cycle between apps: both are shown on a
  copy of the tree with one bad module added.
- Every services, selectors, access and consumers module is type-checked strictly (``make typecheck``).
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("consult", "proposals", "chat", "search", "transcription", "frontend")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
STRICT_ROLES = {"services", "selectors", "access", "consumers"}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120, check=False
    )


def copy_of_the_tree(destination: Path) -> Path:
    """The apps' Python files and pyproject.toml: all ``lint-imports`` reads."""
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    for app in APPS:
        for source in (ROOT / app).rglob("*.py"):
            target = destination / source.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return destination


def test_the_tree_keeps_its_import_contracts() -> None:
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_infrastructure_importing_a_domain_app_fails_the_lint(tmp_path: Path) -> None:
    # given the tree with a search module that reads a proposal model
    tree = copy_of_the_tree(tmp_path)
    (tree / "search" / "leak.py").write_text("from proposals.models import Proposal\n")

    # when the contracts are checked
    result = lint_imports(tree)

    # then the check fails, naming the contract and the import
    assert result.returncode == 1, result.stdout + result.stderr
    assert "search and transcription import no domain app (Django and libraries are fine) BROKEN" in result.stdout
    assert "search.leak -> proposals.models" in result.stdout


def test_an_import_cycle_between_apps_fails_the_lint(tmp_path: Path) -> None:
    # given the tree where the lowest domain app imports chat (chat already imports consult: a cycle)
    tree = copy_of_the_tree(tmp_path)
    (tree / "consult" / "upward.py").write_text("from chat.services import post_message\n")

    # when the contracts are checked
    result = lint_imports(tree)

    # then the layers contract is broken by exactly that import
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Layers: frontend > chat > proposals > consult" in result.stdout
    assert "BROKEN" in result.stdout
    assert "consult.upward -> chat.services" in result.stdout


def _strict_patterns() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    overrides = config["tool"]["mypy"]["overrides"]
    return [pattern for override in overrides if override.get("strict") for pattern in override["module"]]


def _is_strict(module: str, patterns: list[str]) -> bool:
    # mypy: "a.b.*" covers a.b and everything under it
    return any(module == p or (p.endswith(".*") and fnmatch.fnmatch(module + ".", p[:-1] + "*")) for p in patterns)


def test_every_services_selectors_access_and_consumers_module_is_strictly_typed() -> None:
    patterns = _strict_patterns()
    modules = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    ]
    in_scope = [m for m in modules if STRICT_ROLES & set(m.split("."))]

    assert in_scope, "no services, selectors, access or consumers module found"
    assert [m for m in in_scope if not _is_strict(m, patterns)] == []


def _rooms_named_in_the_architecture() -> dict[str, str]:
    """Each app's section of docs/architecture.md ("### `app/` — ..."), by app."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    sections = re.split(r"^### `(\w+)/`", text, flags=re.MULTILINE)
    return {sections[i]: sections[i + 1] for i in range(1, len(sections) - 1, 2)}


def test_every_module_is_in_a_room_of_the_architecture_document() -> None:
    rooms = _rooms_named_in_the_architecture()
    unnamed = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            inside = path.relative_to(ROOT / app)
            if "migrations" in inside.parts or inside.name == "__init__.py":
                continue
            folders = [f"`{'/'.join(inside.parts[:n])}/`" for n in range(1, len(inside.parts))]
            named = [f"`{inside.as_posix()}`", *folders]
            if not any(name in rooms.get(app, "") for name in named):
                unnamed.append(f"{app}/{inside.as_posix()}")

    assert unnamed == [], "name these in docs/architecture.md, under their app's heading"
