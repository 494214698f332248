"""The house rules: the pure core and the exercises never pull in OpenCV, MediaPipe or PyAV, and every layer
imports only downward (core < exercises < io / render / report < apps < cli)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "formcheck"
#: layer -> rank; io, render and report share a rank and must not import each other
RANK = {"core": 0, "exercises": 1, "io": 2, "render": 2, "report": 2, "apps": 3, "cli": 4}
HEAVY = ("cv2", "mediapipe", "av")


def _modules(layer: str) -> list[str]:
    root = PKG / layer
    return sorted("formcheck." + ".".join(p.relative_to(PKG).with_suffix("").parts).removesuffix(".__init__")
                  for p in root.rglob("*.py"))


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "formcheck" and parts[1] in RANK else None


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every formcheck module a file imports, at any depth (lazy imports inside functions count)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}:{node.lineno}: relative import; use formcheck.<layer>.<module>"
            out += [(node.lineno, node.module)] + [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return [(n, m) for n, m in out if m.startswith("formcheck")]


def test_every_module_sits_in_a_layer():
    loose = sorted(p.name for p in PKG.glob("*.py") if p.name != "__init__.py")
    assert loose == [], f"modules outside the layer folders: {loose}"
    assert {p.name for p in PKG.iterdir() if p.is_dir() and not p.name.startswith("__")} == set(RANK)


@pytest.mark.parametrize("layer", sorted(RANK))
def test_imports_point_downward(layer):
    bad = []
    for path in (PKG / layer).rglob("*.py"):
        for line, mod in _imports(path):
            target = _layer_of(mod)
            if target is None or target == layer:
                continue
            if RANK[target] >= RANK[layer]:
                bad.append(f"{path.relative_to(PKG)}:{line} imports {mod} ({target} is not below {layer})")
    assert not bad, "\n".join(sorted(set(bad)))


def test_core_and_exercises_import_with_opencv_mediapipe_and_pyav_blocked():
    mods = _modules("core") + _modules("exercises")
    code = ("import sys\n"
            + "".join(f"sys.modules[{m!r}] = None\n" for m in HEAVY)
            + "import importlib\n"
            + f"for m in {mods!r}:\n    importlib.import_module(m)\n"
            + f"leaked = [m for m in {HEAVY!r} if sys.modules.get(m) is not None]\n"
            + "assert not leaked, leaked\nprint(len(sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


def test_the_blocking_itself_works():
    """The purity test above would pass vacuously if blocking did nothing: importing render (cv2) must fail."""
    code = "import sys\nsys.modules['cv2'] = None\nimport formcheck.render.overlay\n"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode != 0 and "cv2" in r.stderr
