"""Launching anywhere: the Colab setup cell, `make badges`, the static site."""
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import badges  # noqa: E402

NOTEBOOKS = sorted(p for folder in ("notebooks", "exercises", "solutions") for p in (ROOT / folder).glob("*.ipynb"))


def first_code_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "code")["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.name}/{p.name}" for p in NOTEBOOKS])
def test_notebook_starts_with_badge_and_colab_cell(path, monkeypatch, capsys):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert cells[0]["cell_type"] == "markdown"
    badge = f"colab.research.google.com/github/{badges.current_repo()}/blob/main/{path.parent.name}/{path.name}"
    assert badge in "".join(cells[0]["source"])
    source = first_code_cell(path)
    assert "%pip" not in source and "!pip" not in source

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(args[0]))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(source, {})
    assert calls == [] and capsys.readouterr().out == ""

    enabled = []
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: enabled.append(True))
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    exec(source, {})
    assert len(calls) == 1 and calls[0][1:4] == ["-m", "pip", "install"]
    assert f"git+https://github.com/{badges.current_repo()}" in calls[0][-1]
    assert enabled == [True]


def test_badges_round_trip(tmp_path):
    copy = tmp_path / "repo"
    for name in ("pyproject.toml", "README.md", "docs/instructor.md"):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, copy / name)
    for path in NOTEBOOKS:
        (copy / path.parent.name).mkdir(exist_ok=True)
        shutil.copy(path, copy / path.parent.name / path.name)
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    original = badges.current_repo(copy)

    old, changed = badges.repoint("a-fork/my-course", copy)
    assert old == original and badges.current_repo(copy) == "a-fork/my-course"
    assert len(changed) == 3 + len(NOTEBOOKS)
    for path in before:
        assert original not in path.read_text(encoding="utf-8")
    assert "mybinder.org/v2/gh/a-fork/my-course/main" in (copy / "README.md").read_text()
    assert "git-pull?repo=https://github.com/a-fork/my-course&" in (copy / "docs" / "instructor.md").read_text()

    badges.repoint(original, copy)
    assert {p: p.read_bytes() for p in before} == before


def test_badges_rejects_a_malformed_repo(tmp_path):
    with pytest.raises(SystemExit, match="REPO must look like owner/name"):
        badges.repoint("not a repo", tmp_path)


def test_site_has_one_page_per_chapter_with_figures_and_a_table_of_contents(tmp_path):
    import build_site

    chapters = sorted((ROOT / "notebooks").glob("*.ipynb"))
    build_site.build(tmp_path, sections=build_site.SECTIONS[:1])
    pages = sorted((tmp_path / "notebooks").glob("*.html"))
    assert [p.stem for p in pages] == [c.stem for c in chapters]
    index = (tmp_path / "index.html").read_text()
    for chapter, page in zip(chapters, pages):
        assert f'href="notebooks/{page.name}"' in index
        assert build_site.title_of(chapter) in page.read_text()
    if chapters:
        assert any("data:image/png;base64" in p.read_text() for p in pages)
