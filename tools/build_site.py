"""Build the course's static site: a page per notebook and per guide, navigable, in OUTPUT_DIR.

    python tools/build_site.py [OUTPUT_DIR]      (or: make html; default site/, open site/index.html)

Pages show the committed outputs; nothing is executed. Each page has the course's contents in a sidebar
(with the page's own sections), previous/next links, and, for a notebook, Colab, Binder and GitHub buttons.
Links to notebooks (.ipynb) and guides (.md) are pointed at their pages, anchors checked; other files that
pages link to (a script, a gdlab module) are copied beside them; a link to nothing stops the build.
A widget needs a kernel, so an output that carries a static image beside its widget view shows the image,
and any other widget output a note saying where it runs. The only script loaded is MathJax, version pinned.
nbconvert with a small template (tools/site_template/) does the rendering: no dependency beyond the lock, and
it builds offline. Jupyter Book 1 would add a Sphinx stack to the lock for the same pages; Jupyter Book 2
fetches its theme from the network at build time.
"""
import html
import posixpath
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import nbformat
from nbconvert import HTMLExporter

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))
import badges  # noqa: E402  (tools/ is not a package)

SECTIONS = (("notebooks", "Chapters"), ("exercises", "Exercises"), ("solutions", "Solutions"))
GUIDES = "Guides"
SITE_TITLE = "gdlab: gradient descent, hands on"
MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
STATIC_IMAGES = ("image/png", "image/svg+xml", "image/jpeg")
LIVE_ONLY = ('<p class="gd-live">A live widget: it needs a running notebook (the Colab or Binder button at '
             'the top of this page).</p>')
LINK = re.compile(r'(\s(?:href|src)=")([^"]*)(")')
MARKDOWN_LINK = re.compile(r'\]\(<?([^)\s>]+)>?(?:\s+"[^"]*")?\)|\shref="([^"]+)"')
HAS_SCHEME = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//)")


@dataclass(frozen=True)
class Page:
    source: str  # path of the notebook or guide, relative to the repository; "" for the contents page
    title: str
    section: str

    @property
    def output(self):
        return posixpath.splitext(self.source)[0] + ".html" if self.source else "index.html"

    @property
    def is_notebook(self):
        return self.source.endswith(".ipynb")


def title_of(path):
    """The first '# ' heading of a notebook or a Markdown file, or the file name."""
    if path.suffix == ".ipynb":
        cells = nbformat.read(path, as_version=4).cells
        text = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    return next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), path.stem)


def linked_sources(root, source):
    """Repository paths of the notebooks and guides that the Markdown of `source` links to."""
    path = root / source
    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    for match in MARKDOWN_LINK.finditer(text):
        target = (match.group(1) or match.group(2)).split("#", 1)[0]
        if target and not HAS_SCHEME.match(target) and target.endswith((".ipynb", ".md")):
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(source), unquote(target)))
            if (root / resolved).is_file():
                yield resolved


def site_pages(root):
    """The contents page, every notebook of notebooks/, exercises/ and solutions/, the README and docs/, and
    any other notebook or guide they link to."""
    pages = [Page("", "Contents", "")]
    for folder, heading in SECTIONS:
        suffix = " (solved)" if folder == "solutions" else ""  # same title as the exercise otherwise
        pages += [Page(f"{folder}/{p.name}", title_of(p) + suffix, heading)
                  for p in sorted((root / folder).glob("*.ipynb"))]
    guides = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    pages += [Page(p.relative_to(root).as_posix(), title_of(p), GUIDES) for p in guides if p.is_file()]
    known = {page.source for page in pages}
    queue = [page.source for page in pages if page.source]
    while queue:
        for target in linked_sources(root, queue.pop()):
            if target not in known:
                known.add(target)
                queue.append(target)
                pages.append(Page(target, title_of(root / target), GUIDES))
    return pages


def static_widgets(notebook):
    """Widget outputs as a page without a kernel can show them; the saved widget state dropped."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                if not any(mime in data for mime in STATIC_IMAGES):
                    output["data"] = {"text/html": LIVE_ONLY}
    notebook.metadata.pop("widgets", None)
    return notebook


def href(page, target_output):
    return posixpath.relpath(target_output, posixpath.dirname(page.output) or ".")


def sidebar(pages, page):
    parts = [f'<a class="gd-home" href="{href(page, "index.html")}">{html.escape(SITE_TITLE)}</a>']
    for heading in [h for _, h in SECTIONS] + [GUIDES]:
        items = []
        for other in (p for p in pages if p.section == heading):
            current = ' class="gd-current"' if other == page else ""
            items.append(f'<li{current}><a href="{href(page, other.output)}">{html.escape(other.title)}</a></li>')
        opened = " open" if heading == page.section or (not page.source and heading == SECTIONS[0][1]) else ""
        parts.append(f"<details{opened}><summary>{heading}</summary><ul>\n" + "\n".join(items) + "\n</ul></details>")
    parts.append("<!--gd-onpage-->")
    return "\n".join(parts)


def neighbours(pages, page):
    """Previous and next page within the page's section; the contents page at either end."""
    if not page.source:
        return None, pages[1]
    same = [p for p in pages if p.section == page.section]
    i = same.index(page)
    return (same[i - 1] if i > 0 else pages[0]), (same[i + 1] if i + 1 < len(same) else pages[0])


def prevnext(pages, page):
    previous, following = neighbours(pages, page)
    links = []
    if previous:
        links.append(f'<a rel="prev" href="{href(page, previous.output)}">&larr; {html.escape(previous.title)}</a>')
    links.append(f'<a rel="next" href="{href(page, following.output)}">{html.escape(following.title)} &rarr;</a>')
    return '<span class="gd-prevnext">' + "".join(links) + "</span>"


def launch_buttons(repo, page):
    if not page.is_notebook:
        return "<span></span>"
    return (
        '<span class="gd-launch">'
        f'<a href="https://colab.research.google.com/github/{repo}/blob/main/{page.source}">Open in Colab</a>'
        f'<a href="https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/{page.source}">Launch Binder</a>'
        f'<a href="https://github.com/{repo}/blob/main/{page.source}">View on GitHub</a>'
        "</span>"
    )


def contents_markdown(pages):
    readme = "the [README](README.md)" if any(p.source == "README.md" for p in pages) else "the README"
    intro = ("A read-only copy of the course, with every output as committed. To run a notebook, use the "
             "*Open in Colab* or *Launch Binder* button at the top of its page, or run the course on your "
             f"computer as {readme} explains.")
    lines = [f"# {SITE_TITLE}", "", intro, ""]
    for heading in [h for _, h in SECTIONS] + [GUIDES]:
        lines += [f"## {heading}", ""]
        lines += [f"- [{p.title}]({p.source})" for p in pages if p.section == heading]
        lines.append("")
    return "\n".join(lines)


def notebook_of(root, page, pages):
    if page.is_notebook:
        notebook = static_widgets(nbformat.read(root / page.source, as_version=4))
    else:
        text = (root / page.source).read_text(encoding="utf-8") if page.source else contents_markdown(pages)
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    notebook.metadata["title"] = page.title
    return notebook


def element_ids(body):
    return re.findall(r'\sid="([^"]+)"', body)


def github_slug(anchor):
    """GitHub's anchor for a heading, from the text or from nbconvert's id of it (spaces as '-')."""
    return re.sub(r"[^\w\- ]", "", unquote(anchor).lower()).replace(" ", "-")


def find_anchor(ids, fragment):
    """The id in `ids` that `fragment` names: exactly, percent-decoded, or as GitHub would slug it."""
    wanted = unquote(html.unescape(fragment))
    for candidate in ids:
        if unquote(candidate) == wanted:
            return candidate
    return next((c for c in ids if github_slug(c) == github_slug(wanted)), None)


class Links:
    """Points the relative links of rendered pages at the site's files, and collects what is broken."""

    def __init__(self, root, repo, pages, bodies):
        self.root, self.repo = root, repo
        self.by_source = {page.source: page for page in pages if page.source}
        self.ids = {page.output: element_ids(body) for page, body in bodies.items()}
        self.copies, self.broken = set(), []

    def rewrite(self, page, body):
        return LINK.sub(lambda m: m.group(1) + self.target(page, m.group(2)) + m.group(3), body)

    def target(self, page, value):
        raw = html.unescape(value)
        if not raw or HAS_SCHEME.match(raw):
            return value
        path, _, fragment = raw.partition("#")
        if not path:
            return self.anchor(page, page.output, fragment, value)
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page.source), unquote(path)))
        if raw.startswith("/") or resolved.startswith(".."):
            self.broken.append(f"{page.source or 'index'}: {value} leaves the repository")
            return value
        if resolved in self.ids:  # already a page of the site (the sidebar, previous/next)
            return self.anchor(page, resolved, fragment, value) if fragment else value
        if resolved in self.by_source:
            target_output = self.by_source[resolved].output
            new = html.escape(href(page, target_output), quote=True)
            return self.anchor(page, target_output, fragment, new) if fragment else new
        if (self.root / resolved).is_file():
            self.copies.add(resolved)
            return html.escape(href(page, resolved), quote=True) + (f"#{fragment}" if fragment else "")
        if (self.root / resolved).is_dir():
            return f"https://github.com/{self.repo}/tree/main/{resolved.rstrip('/')}"
        self.broken.append(f"{page.source or 'index'}: {value} points at nothing")
        return value

    def anchor(self, page, target_output, fragment, path_part):
        base = "" if path_part.startswith("#") else path_part
        found = find_anchor(self.ids.get(target_output, []), fragment)
        if found is None:
            self.broken.append(f"{page.source or 'index'}: #{fragment} is not a heading of {target_output}")
            return path_part
        return f"{base}#{found}"


def with_page_contents(body):
    """The page's own h2 sections listed in its sidebar, where the template left a marker."""
    headings = re.findall(r'<h2 id="([^"]+)"[^>]*>(.*?)<a class="anchor-link"', body, re.DOTALL)
    if not headings:
        return body.replace("<!--gd-onpage-->", "")
    items = "\n".join(f'<li><a href="#{anchor}">{re.sub(r"<[^>]+>", "", text).strip()}</a></li>'
                      for anchor, text in headings)
    return body.replace("<!--gd-onpage-->", f'<div class="gd-onpage"><b>On this page</b><ul>\n{items}\n</ul></div>')


def build(out_dir, root=ROOT):
    out_dir, root = Path(out_dir), Path(root)
    if out_dir.exists():
        if any(out_dir.iterdir()) and not (out_dir / "index.html").exists():
            raise SystemExit(f"{out_dir} is not empty and holds no site: choose another folder")
        shutil.rmtree(out_dir)
    repo = badges.current_repo(root)
    pages = site_pages(root)
    exporter = HTMLExporter(template_name="site_template", extra_template_basedirs=[str(TOOLS)], mathjax_url=MATHJAX)
    bodies = {}
    for page in pages:
        resources = {"gdlab": {"sidebar": sidebar(pages, page), "launch": launch_buttons(repo, page),
                               "prevnext": prevnext(pages, page)}}
        body, _ = exporter.from_notebook_node(notebook_of(root, page, pages), resources=resources)
        bodies[page] = with_page_contents(body)
    links = Links(root, repo, pages, bodies)
    for page, body in bodies.items():
        target = out_dir / page.output
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(links.rewrite(page, body), encoding="utf-8")
    if links.broken:
        raise SystemExit("broken links:\n" + "\n".join(sorted(set(links.broken))))
    for name in sorted(links.copies):
        (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, out_dir / name)
    return out_dir


if __name__ == "__main__":
    start = time.perf_counter()
    site = build(sys.argv[1] if len(sys.argv) > 1 else ROOT / "site")
    pages = len(list(site.rglob("*.html")))
    print(f"{pages} pages written to {site}/ in {time.perf_counter() - start:.1f} s: open {site}/index.html")
