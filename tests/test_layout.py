"""The layout holds (docs/layout.md): imports point one way, modules stay small, and every public
service and selector says what it takes, returns and raises.

The order, lowest first: the kernel billing_site/core, accounts, customers, usage, bills, then
the rest of billing_site (settings, URL conf). A module may import its own unit or a lower one.
The readers (views, the API and its serializers, the admin, template tags, URL confs,
management commands) may also read an upper app, but only its selectors, serializers and charts.
Written as data here, not read from the code it checks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["billing_site.core", "accounts", "customers", "usage", "bills", "billing_site"]
RANK = {unit: i for i, unit in enumerate(ORDER)}
# usage/overview.py is a page view (the usage overview); usage/analysis.py holds selectors (the
# analysis of usage: totals, limits, projections, suspicious months).
READERS = {"views", "overview", "api", "serializers", "admin", "templatetags", "urls", "management"}
READABLE_FROM_ABOVE = {"selectors", "analysis", "serializers", "charts"}
MAX_LINES = 400


def _unit(module: str) -> str | None:
    if module == "billing_site.core" or module.startswith("billing_site.core."):
        return "billing_site.core"
    top = module.split(".")[0]
    return top if top in RANK else None


def _modules() -> list[tuple[Path, str]]:
    found = []
    for unit in ("accounts", "customers", "usage", "bills", "billing_site"):
        for path in sorted((ROOT / unit).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((path, dotted.removesuffix(".__init__")))
    return found


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from bills import periods` reaches bills.periods; count the package.
            names += [(node.lineno, node.module)]
    return names


def _upward_imports() -> list[str]:
    problems = []
    for path, module in _modules():
        unit = _unit(module)
        parts = module.split(".")
        room = parts[1] if unit != "billing_site.core" and len(parts) > 1 else parts[-1]
        reader = unit != "billing_site.core" and room in READERS
        for line, target in _imports(path):
            target_unit = _unit(target)
            if target_unit is None or RANK[target_unit] <= RANK[unit]:
                continue
            target_parts = target.split(".")
            target_room = target_parts[1] if len(target_parts) > 1 else ""
            if reader and target_room in READABLE_FROM_ABOVE:
                continue
            problems.append(f"{path.relative_to(ROOT)}:{line} imports {target} (above {unit})")
    return problems


def test_imports_point_down_the_layers():
    assert _upward_imports() == []


def test_no_module_outside_the_tests_passes_400_lines():
    long = [
        f"{path.relative_to(ROOT)}: {n} lines"
        for path, _ in _modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert long == []


def _public_functions(path: Path) -> list[ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    ]


SERVICE_AND_SELECTOR_FILES = sorted(
    [*ROOT.glob("*/services.py"), *ROOT.glob("*/services/*.py"), *ROOT.glob("*/selectors.py")]
)


def test_there_are_services_and_selectors_to_check():
    names = {str(p.relative_to(ROOT)) for p in SERVICE_AND_SELECTOR_FILES}
    assert {"bills/services/decisions.py", "usage/selectors.py", "accounts/services.py"} <= names


@pytest.mark.parametrize("path", SERVICE_AND_SELECTOR_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_public_service_and_selector_has_a_docstring(path):
    missing = [f.name for f in _public_functions(path) if not ast.get_docstring(f)]
    assert missing == []


@pytest.mark.parametrize(
    "path",
    sorted([*ROOT.glob("*/services.py"), *ROOT.glob("*/services/*.py")]),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_public_services_take_keyword_arguments_only(path):
    """`bill_approve(*, bill, user)`: a service whose name is <entity>_<verb> and that writes
    takes its inputs by keyword, so no call can swap two of them."""
    positional = []
    for function in _public_functions(path):
        if "_" not in function.name or function.name.startswith(("is_", "can_")):
            continue
        entity = function.name.split("_")[0]
        if entity not in {"bill", "bills", "usage", "user", "customer"}:
            continue
        if function.args.args or function.args.posonlyargs:
            positional.append(function.name)
    assert positional == []


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    """The walker itself: a selector of customers that reads bills is reported."""
    app = tmp_path / "customers"
    app.mkdir()
    (app / "selectors.py").write_text("from bills.models import Bill\n")
    (app / "views.py").write_text("from bills.selectors import bill_list\n")
    for unit in ("accounts", "usage", "bills", "billing_site"):
        (tmp_path / unit).mkdir()
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _upward_imports() == ["customers/selectors.py:1 imports bills.models (above customers)"]
