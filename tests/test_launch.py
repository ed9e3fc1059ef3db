"""Launching anywhere: every notebook's badges and Colab setup cell, `make badges`, what `pip install` ships."""
import json
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import badges
import notebook_header

NOTEBOOKS = sorted(p for folder in notebook_header.FOLDERS for p in (ROOT / folder).glob("*.ipynb"))
IDS = [f"{p.parent.name}/{p.name}" for p in NOTEBOOKS]


def first_code_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "code")["source"])


def run_setup_cell(source, monkeypatch, on_colab):
    """Run `source` as IPython would (`%pip` becomes a magic call); return the magics it called."""
    calls = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line: calls.append((name, line)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(TransformerManager().transform_cell(source), {"get_ipython": lambda: shell})  # noqa: S102
    return calls


def test_setup_cell_installs_gdlab_alone_on_colab_and_does_nothing_elsewhere(monkeypatch, capsys):
    source = notebook_header.setup_cell(badges.current_repo())
    assert run_setup_cell(source, monkeypatch, on_colab=False) == []
    assert capsys.readouterr() == ("", "")
    calls = run_setup_cell(source, monkeypatch, on_colab=True)
    assert calls == [("pip", f'install --no-deps "gdlab @ git+https://github.com/{badges.current_repo()}"')]
    assert "enable_custom_widget_manager" not in source and "subprocess" not in source


# These two fail until `python tools/notebook_header.py` has been run on the notebooks (see its docstring).
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_starts_with_its_badges_and_the_setup_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    relative = f"{path.parent.name}/{path.name}"
    assert cells[0]["cell_type"] == "markdown"
    assert notebook_header.badges_markdown(badges.current_repo(), relative) in "".join(cells[0]["source"])
    assert first_code_cell(path) == notebook_header.setup_cell(badges.current_repo())


def test_every_notebook_header_is_what_the_tool_writes():
    assert notebook_header.main(["--check"]) == 0


def course_copy(tmp_path):
    copy = tmp_path / "repo"
    for name in ("pyproject.toml", "README.md", "docs/instructor.md"):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, copy / name)
    for path in NOTEBOOKS:
        (copy / path.parent.name).mkdir(exist_ok=True)
        shutil.copy(path, copy / path.parent.name / path.name)
    return copy


def test_header_tool_on_copies_is_idempotent_and_touches_only_the_header(tmp_path):
    copy = course_copy(tmp_path)
    paths = sorted(p for folder in notebook_header.FOLDERS for p in (copy / folder).glob("*.ipynb"))
    before = {p: nbformat.read(p, as_version=4) for p in paths}
    for path in paths:
        notebook_header.update(path, root=copy)
    first_pass = {p: p.read_bytes() for p in paths}
    assert not any(notebook_header.update(p, root=copy, check=True) for p in paths)
    assert not any(notebook_header.update(p, root=copy) for p in paths)
    assert {p: p.read_bytes() for p in paths} == first_pass
    repo = badges.current_repo(copy)
    for path in paths:
        old, new = before[path], nbformat.read(path, as_version=4)
        relative = f"{path.parent.name}/{path.name}"
        assert [c.id for c in new.cells] == [c.id for c in old.cells]
        assert new.cells[0].source.splitlines()[1:3] == notebook_header.badges_markdown(repo, relative).splitlines()
        assert new.cells[1].source == notebook_header.setup_cell(repo) and new.cells[1].outputs == []
        assert [c.source for c in new.cells[2:]] == [c.source for c in old.cells[2:]]
        assert [c.get("outputs") for c in new.cells[2:]] == [c.get("outputs") for c in old.cells[2:]]
        assert new.metadata == old.metadata


def test_header_tool_adds_a_missing_setup_cell_under_the_title(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "notebooks").mkdir()
    path = tmp_path / "notebooks" / "13_new.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 13 · New\nText."),
                                                   nbformat.v4.new_code_cell("import numpy")]), path)
    assert notebook_header.update(path, root=tmp_path)
    cells = nbformat.read(path, as_version=4).cells
    repo = badges.current_repo()
    header = notebook_header.badges_markdown(repo, "notebooks/13_new.ipynb")
    assert cells[0].source == "# 13 · New\n" + header + "\nText."
    assert [c.source for c in cells[1:]] == [notebook_header.setup_cell(repo), "import numpy"]
    assert not notebook_header.update(path, root=tmp_path)


def test_badges_round_trip_keeps_the_headers_consistent(tmp_path):
    copy = course_copy(tmp_path)
    for path in sorted(p for folder in notebook_header.FOLDERS for p in (copy / folder).glob("*.ipynb")):
        notebook_header.update(path, root=copy)
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    original = badges.current_repo(copy)

    old, changed = badges.repoint("a-fork/my-course", copy)
    assert old == original and badges.current_repo(copy) == "a-fork/my-course"
    assert len(changed) == 3 + len(NOTEBOOKS)
    for path in before:
        assert original not in path.read_text(encoding="utf-8")
    assert "mybinder.org/v2/gh/a-fork/my-course/main" in (copy / "README.md").read_text()
    assert "git-pull?repo=https://github.com/a-fork/my-course&" in (copy / "docs" / "instructor.md").read_text()
    # what make badges wrote is what the header tool would write for the fork
    assert not any(notebook_header.update(p, root=copy, check=True) for p in before if p.suffix == ".ipynb")

    badges.repoint(original, copy)
    assert {p: p.read_bytes() for p in before} == before


def test_badges_rejects_a_malformed_repo(tmp_path):
    with pytest.raises(SystemExit, match="REPO must look like owner/name"):
        badges.repoint("not a repo", tmp_path)


def test_pip_install_ships_every_file_of_the_package(tmp_path):
    """What the notebooks import or launch (python -m gdlab.ddp_train included) comes with a plain install."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\n")
    package = [name for name in listed if name.startswith("gdlab/") and (ROOT / name).is_file()]
    source = tmp_path / "source"  # a clean copy: no build/ left over from an earlier build
    for name in package + ["pyproject.toml", "README.md"]:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", str(tmp_path), str(source)],
                   check=True, capture_output=True)
    shipped = set(zipfile.ZipFile(next(tmp_path.glob("gdlab-*.whl"))).namelist())
    assert package and sorted(set(package) - shipped) == []
