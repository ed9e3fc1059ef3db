"""Build a static, browsable copy of the course: one HTML page per notebook and an index.

    python tools/build_site.py [OUTPUT_DIR]      (or: make html; default site/)

Pages show the committed outputs (figures included); nothing is executed.
"""
import html
import json
import sys
from pathlib import Path

from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = [("notebooks", "Chapters"), ("solutions", "Exercises with solutions"), ("exercises", "Exercises")]


def title_of(notebook_path):
    """The first '# ' heading of the notebook, or its file name."""
    for cell in json.loads(notebook_path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return notebook_path.stem


def build(out_dir, sections=SECTIONS):
    out_dir = Path(out_dir)
    exporter = HTMLExporter(template_name="lab")
    toc = []
    for folder, heading in sections:
        notebooks = sorted((ROOT / folder).glob("*.ipynb"))
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
        items = []
        for nb in notebooks:
            body, _ = exporter.from_filename(str(nb))
            (out_dir / folder / f"{nb.stem}.html").write_text(body, encoding="utf-8")
            items.append(f'<li><a href="{folder}/{nb.stem}.html">{html.escape(title_of(nb))}</a></li>')
        toc.append(f"<h2>{heading}</h2>\n<ul>\n" + "\n".join(items) + "\n</ul>")
    index = (
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>gdlab: gradient descent, hands on</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:50em;margin:2em auto;line-height:1.5}</style>"
        "</head><body>\n<h1>gdlab: gradient descent, hands on</h1>\n"
        "<p>A read-only copy of the course with every output. To run it, see the README.</p>\n"
        + "\n".join(toc) + "\n</body></html>\n"
    )
    (out_dir / "index.html").write_text(index, encoding="utf-8")
    return out_dir


if __name__ == "__main__":
    site = build(sys.argv[1] if len(sys.argv) > 1 else ROOT / "site")
    print(f"site written to {site}/index.html")
