"""The code's shape that make lint's import contracts do not cover (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_FOLDERS = [
    path.parent for path in ROOT.glob("*/apps.py") if not path.parent.name.startswith(".")
]


def _imports_of_private_names(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(root)}:{node.lineno} from {node.module} import {alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith("_")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]


def test_there_are_apps_to_look_at():
    assert {"leads", "icp", "referrals", "privacy"} <= {folder.name for folder in APP_FOLDERS}


def test_no_module_imports_another_modules_private_names():
    found = [
        line
        for folder in [*APP_FOLDERS, ROOT / "leadhunter"]
        for path in folder.rglob("*.py")
        if "migrations" not in path.parts
        for line in _imports_of_private_names(path)
    ]
    assert found == []


def test_the_private_name_check_sees_one(tmp_path):
    module = tmp_path / "example.py"
    module.write_text(
        "from accounts.forms import _hidden\nfrom __future__ import annotations\n",
        encoding="utf-8",
    )
    assert _imports_of_private_names(module, root=tmp_path) == [
        "example.py:1 from accounts.forms import _hidden"
    ]
