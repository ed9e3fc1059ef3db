"""The course hangs together: every chapter is in the README's table and chapter 00's map with the time
its own first cell states, opens with goals, prerequisites and time, and ends with a summary and a link to
exercises that exist."""
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ROW = re.compile(r"^\| (\d\d) \| \[[^\]]+\]\((?:notebooks/)?(\d\d_\w+)\.ipynb\) \| [^|]+ \| (\d+) \|$", re.MULTILINE)


def stated_minutes(chapter):
    first = nbformat.read(chapter, as_version=4).cells[0].source
    found = re.search(r"\*\*Time:?\*\*:? about (\d+) minutes", first)
    assert found, f"{chapter.name}: the first cell must say '**Time:** about N minutes'"
    return int(found.group(1))


def rows(text):
    return {name: int(minutes) for number, name, minutes in ROW.findall(text) if name.startswith(number)}


def test_readme_table_and_chapter_map_list_every_chapter_with_its_stated_time():
    stated = {chapter.stem: stated_minutes(chapter) for chapter in CHAPTERS}
    chapter_map = next(c.source for c in nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4).cells
                       if "The chapter map" in c.source)
    assert rows((ROOT / "README.md").read_text(encoding="utf-8")) == stated
    assert rows(chapter_map) == stated
    assert f"In total about {sum(stated.values())} minutes" in chapter_map


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_chapter_opens_with_goals_and_ends_with_summary_and_exercises(chapter):
    cells = nbformat.read(chapter, as_version=4).cells
    opening = cells[0].source
    for part in ("Learning goals", "Prerequisites", "Time"):
        assert part in opening, f"{chapter.name}: the first cell has no {part}"
    headings = [line for cell in cells if cell.cell_type == "markdown" for line in cell.source.splitlines()
                if line.startswith("## ")]
    if chapter.stem.startswith("00"):
        return
    assert "## Summary" in headings and headings[-1].startswith("## Exercises"), f"{chapter.name}: {headings[-3:]}"
    ending = cells[-1].source
    for folder in ("exercises", "solutions"):
        assert f"{folder}/{chapter.name}" in ending, f"{chapter.name}: the last cell does not point to {folder}/"
        assert (ROOT / folder / chapter.name).exists()


NOTEBOOKS = sorted(p for folder in ("notebooks", "exercises", "solutions") for p in (ROOT / folder).glob("*.ipynb"))
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # C0 controls and DEL; newline is the only one allowed


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[f"{p.parent.name}/{p.name}" for p in NOTEBOOKS])
def test_markdown_has_no_control_characters(notebook):
    """A TAB or a BEL in markdown is an escape gone wrong ("\\times" written through "\\t"): it breaks the LaTeX."""
    found = [(index, hex(ord(match.group())), cell.source[max(0, match.start() - 15):match.end() + 15])
             for index, cell in enumerate(nbformat.read(notebook, as_version=4).cells) if cell.cell_type == "markdown"
             for match in CONTROL.finditer(cell.source)]
    assert not found, f"control characters in markdown (cell index, character, context): {found}"
