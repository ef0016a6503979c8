"""The one-way data flow, checked on the source: kernels import nothing of the application,
the scene and the front ends never reach into the kernels."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
            if node.module.split(".")[0] == "experience":
                names.add(node.module)
    return names


def _files(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


def test_kernels_are_pure_array_code():
    assert _files("kernels"), "no kernel sources found"
    for path in _files("kernels"):
        bad = _imports(path) & {"experience", "panda3d", "direct", "os", "pathlib", "io", "tomllib", "json"}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}: kernels take arrays, not files or the app"


def test_scene_and_frontends_do_not_reach_into_kernels():
    for folder in ("experience/scene", "experience/frontends"):
        for path in _files(folder):
            assert "kernels" not in _imports(path), f"{path.relative_to(ROOT)} imports kernels; go through experience.simulation"


def test_simulation_does_not_import_frontends_or_scene():
    for path in _files("experience/simulation") + _files("experience/mission"):
        names = _imports(path)
        bad = {n for n in names if n.startswith(("experience.frontends", "experience.scene"))}
        bad |= names & {"panda3d", "direct"}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}: data flows one way"
