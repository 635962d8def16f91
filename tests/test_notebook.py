"""The walkthrough notebook runs top to bottom on the sample, and is committed without outputs.

No Jupyter kernel is needed: the code cells are executed in order, in one
namespace, in this process, with a small stand-in for ``IPython.display``
that records what would have been shown.
"""

from __future__ import annotations

import json
import sys
import tempfile
import types
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "walkthrough.ipynb"


def _code_cells() -> list[dict]:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def _fake_ipython(shown: list[object]) -> dict[str, types.ModuleType]:
    """``IPython`` and ``IPython.display`` with display(), Image and HTML that record."""

    class Image:
        def __init__(self, data: bytes | None = None, filename: str | None = None) -> None:
            self.data = data if data is not None else Path(filename).read_bytes()
            assert self.data.startswith(b"\x89PNG"), "not a PNG"

    class HTML:
        def __init__(self, data: str) -> None:
            self.data = data

    display_module = types.ModuleType("IPython.display")
    display_module.display = lambda *objects, **_: shown.extend(objects)
    display_module.Image, display_module.HTML = Image, HTML
    package = types.ModuleType("IPython")
    package.display = display_module
    package.version_info = (9, 0, 0)     # matplotlib asks; a modern IPython needs no fixing
    return {"IPython": package, "IPython.display": display_module}


def test_outputs_are_stripped() -> None:
    for cell in _code_cells():
        assert cell["outputs"] == [] and cell["execution_count"] is None, cell["source"][:2]


@pytest.mark.slow
def test_walkthrough_runs_on_the_sample(monkeypatch, tmp_path) -> None:
    shown: list[object] = []
    for name, module in _fake_ipython(shown).items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))   # the notebook's OUT folder
    monkeypatch.chdir(NOTEBOOK.parent)

    namespace: dict[str, object] = {"__name__": "__main__"}
    for number, cell in enumerate(_code_cells(), start=1):
        source = "".join(cell["source"])
        exec(compile(source, f"{NOTEBOOK.name} code cell {number}", "exec"), namespace)

    out = Path(namespace["OUT"])
    assert out.is_relative_to(tmp_path)
    atlas = namespace["atlas"]
    assert len(atlas.cases) > 30_000 and atlas.config.project.sample
    pdf, page = namespace["pdf"], namespace["page"]
    assert pdf.exists() and page.exists() and pdf.parent == out / "bulletin"
    images = [obj for obj in shown if type(obj).__name__ == "Image"]
    assert len(images) >= 2          # the district map and the bulletin's first page
    assert any(type(obj).__name__ == "DataFrame" for obj in shown)
