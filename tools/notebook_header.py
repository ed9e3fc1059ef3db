"""Write the launch badges and the Colab setup cell into every notebook.

    python tools/notebook_header.py                   every notebook of notebooks/, exercises/ and solutions/
    python tools/notebook_header.py PATH.ipynb ...    only these
    python tools/notebook_header.py --check [...]     change nothing; exit 1 naming each notebook that differs

The first markdown cell gets, right under its `# ` title, an "Open in Colab" and a "Binder" badge that open
this very notebook; the first code cell becomes SETUP_CELL. Both point at the repository named in
pyproject.toml (`make badges` re-points them). Running it twice changes nothing the second time; cell ids,
metadata and every other cell are kept.
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import badges

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "exercises", "solutions")

# On Colab: install gdlab alone. Colab already has its dependencies at versions gdlab supports (its floors are at
# or below Colab's versions: tests/test_colab.py, make test-colab). Without --no-deps pip would also walk the
# dependencies of Colab's own packages and add jedi, which Colab's IPython 7.34 asks for and Colab leaves out.
# `%pip` is what Colab runs as `pip install` and watches (it would offer a restart if pip replaced something
# already imported; here nothing is). Core widgets need no custom widget manager, and anywidget registers what
# it needs itself. Anywhere else the `if` is false: the cell does nothing and prints nothing.
SETUP_CELL = """\
# Colab setup: on Google Colab this installs gdlab alone (Colab already has numpy, matplotlib, ipywidgets,
# anywidget and torch at versions gdlab supports, so nothing else changes). Anywhere else it does nothing.
import sys

if "google.colab" in sys.modules:
    %pip install --no-deps "gdlab @ git+https://github.com/{repo}"
"""
SETUP_MARKER = "# Colab setup"
BADGE_LINE = re.compile(r"^\[!\[(Open In Colab|Binder)\]\([^)]*\)\]\([^)]*\)\s*$")


def badges_markdown(repo, relative_path):
    """The two badge lines that open `relative_path` (e.g. notebooks/02_x.ipynb) on Colab and on Binder."""
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"(https://colab.research.google.com/github/{repo}/blob/main/{relative_path})\n"
        f"[![Binder](https://mybinder.org/badge_logo.svg)]"
        f"(https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/{relative_path})"
    )


def setup_cell(repo):
    return SETUP_CELL.format(repo=repo).rstrip("\n")


def with_badges(markdown, repo, relative_path):
    """`markdown` (a first cell starting with a `# ` title) with the badges right under the title."""
    lines = [line for line in markdown.split("\n") if not BADGE_LINE.match(line)]
    title = next((i for i, line in enumerate(lines) if line.startswith("# ")), None)
    if title is None:
        raise ValueError(f"{relative_path}: the first markdown cell has no '# ' title to put the badges under")
    lines[title + 1:title + 1] = badges_markdown(repo, relative_path).split("\n")
    return "\n".join(lines)


def apply(notebook, repo, relative_path):
    """Put the badges and the setup cell into `notebook` (an nbformat node), in place."""
    first = next((c for c in notebook.cells if c.cell_type == "markdown"), None)
    if first is None or notebook.cells.index(first) != 0:
        raise ValueError(f"{relative_path}: must start with a markdown cell holding the title")
    first.source = with_badges(first.source, repo, relative_path)
    source = setup_cell(repo)
    existing = next((c for c in notebook.cells if c.cell_type == "code"), None)
    if existing is not None and existing.source.startswith(SETUP_MARKER):
        if existing.source != source:
            existing.source, existing.outputs = source, []
    else:
        cell = nbformat.v4.new_code_cell(source)
        notebook.cells.insert(1, cell)
    return notebook


def notebooks(root=ROOT):
    for folder in FOLDERS:
        yield from sorted((root / folder).glob("*.ipynb"))


def update(path, root=ROOT, check=False):
    """Write the header into the notebook at `path`; True if it was (or, with check, would be) changed."""
    text = path.read_text(encoding="utf-8")
    notebook = nbformat.reads(text, as_version=4)
    apply(notebook, badges.current_repo(root), path.resolve().relative_to(root.resolve()).as_posix())
    new_text = nbformat.writes(notebook)
    new_text += "" if new_text.endswith("\n") else "\n"
    if new_text == text:
        return False
    if not check:
        path.write_text(new_text, encoding="utf-8")
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook differs")
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.paths or list(notebooks())
    changed = [path for path in paths if update(path, check=args.check)]
    for path in changed:
        print(f"{path}: {'differs' if args.check else 'updated'}")
    print(f"{len(changed)} of {len(paths)} notebooks {'differ' if args.check else 'updated'}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
