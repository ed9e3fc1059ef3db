"""`make html`: the static site is built, every link on it is followed, widgets show their static image."""
import base64
import json
import posixpath
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import badges
import build_site

SECTIONS = ("notebooks", "exercises", "solutions")
PINNED = re.compile(r"(@|/)\d+\.\d+\.\d+(/|$)")


class Parsed(HTMLParser):
    """Every id, every link (a, link: href; script, img: src), the sidebar's links and rel=prev/next."""

    def __init__(self, text):
        super().__init__()
        self.ids, self.links, self.scripts, self.rel = set(), [], [], {}
        self.sidebar_links, self._in_sidebar = [], 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "nav" and "gd-sidebar" in (attrs.get("class") or ""):
            self._in_sidebar += 1
        url = attrs.get("href") if tag in ("a", "link") else attrs.get("src") if tag in ("script", "img") else None
        if url is not None:
            self.links.append(url)
            if tag == "script":
                self.scripts.append(url)
            if tag == "a" and attrs.get("rel"):
                self.rel[attrs["rel"]] = url
            if tag == "a" and self._in_sidebar:
                self.sidebar_links.append(url)

    def handle_endtag(self, tag):
        if tag == "nav" and self._in_sidebar:
            self._in_sidebar -= 1


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = build_site.build(tmp_path_factory.mktemp("site") / "site")
    return out, {p.relative_to(out).as_posix(): Parsed(p.read_text(encoding="utf-8")) for p in out.rglob("*.html")}


def resolve(page, url):
    """The site path and fragment a relative `url` on `page` points at, or None for an absolute URL."""
    parts = urlsplit(url)
    if parts.scheme or url.startswith("//"):
        return None
    path = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path))) if parts.path else page
    return path, unquote(parts.fragment)


def test_one_page_per_notebook_and_guide(site):
    out, pages = site
    for folder in SECTIONS:
        assert sorted(p for p in pages if p.startswith(folder + "/")) == \
            sorted(f"{folder}/{nb.stem}.html" for nb in (ROOT / folder).glob("*.ipynb"))
    assert {"index.html", "README.html", "docs/instructor.html"} <= set(pages)
    chapter = (out / "notebooks" / "02_gradient_descent.html").read_text(encoding="utf-8")
    assert build_site.title_of(ROOT / "notebooks" / "02_gradient_descent.ipynb") in chapter
    assert "data:image/png;base64" in chapter


def test_every_relative_link_and_anchor_resolves(site):
    out, pages = site
    followed, broken = 0, []
    for page, parsed in pages.items():
        for url in parsed.links:
            target = resolve(page, url)
            if target is None:
                continue
            path, fragment = target
            followed += 1
            if not (out / path).is_file():
                broken.append(f"{page}: {url} (no file {path})")
            elif fragment and fragment not in {unquote(i) for i in pages[path].ids}:
                broken.append(f"{page}: {url} (no #{fragment} in {path})")
    assert broken == []
    assert followed > 40 * len(pages)  # the sidebar alone links every page from every page


def test_no_link_points_at_a_notebook_or_markdown_file(site):
    """On the site, chapters, exercises, solutions and guides are pages: .ipynb and .md links were the bug."""
    _, pages = site
    left = [(page, url) for page, parsed in pages.items() for url in parsed.links
            if resolve(page, url) and resolve(page, url)[0].endswith((".ipynb", ".md"))]
    assert left == []


def test_every_page_has_the_contents_and_previous_next(site):
    _, pages = site
    every_page = {p for p in pages if p.endswith(".html")}
    for page, parsed in pages.items():
        linked = {resolve(page, url)[0] for url in parsed.sidebar_links}
        assert {p for p in every_page if p.split("/")[0] in SECTIONS} <= linked, page
        assert "next" in parsed.rel, page
        assert page == "index.html" or "prev" in parsed.rel, page


def test_next_walks_the_chapters_in_order_and_prev_walks_back(site):
    _, pages = site
    chapters = sorted(f"notebooks/{nb.stem}.html" for nb in (ROOT / "notebooks").glob("*.ipynb"))
    walk, page = [], "index.html"
    for _ in chapters:
        page = resolve(page, pages[page].rel["next"])[0]
        walk.append(page)
    assert walk == chapters
    assert resolve(page, pages[page].rel["next"])[0] == "index.html"
    for previous in reversed(chapters[:-1]):
        page = resolve(page, pages[page].rel["prev"])[0]
        assert page == previous


def test_notebook_pages_have_colab_binder_and_github_buttons(site):
    _, pages = site
    repo = badges.current_repo()
    for folder in SECTIONS:
        for nb in (ROOT / folder).glob("*.ipynb"):
            links = pages[f"{folder}/{nb.stem}.html"].links
            path = f"{folder}/{nb.name}"
            assert f"https://colab.research.google.com/github/{repo}/blob/main/{path}" in links
            assert f"https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/{path}" in links
            assert f"https://github.com/{repo}/blob/main/{path}" in links


def test_scripts_are_pinned_and_math_is_typeset(site):
    out, pages = site
    for page, parsed in pages.items():
        for src in parsed.scripts:
            assert not urlsplit(src).scheme or PINNED.search(urlsplit(src).path), f"{page}: unpinned {src}"
            assert "latest.js" not in src and "@*" not in src and "unpkg" not in src, f"{page}: {src}"
    chapter = (out / "notebooks" / "02_gradient_descent.html").read_text(encoding="utf-8")
    assert build_site.MATHJAX in pages["notebooks/02_gradient_descent.html"].scripts
    assert "MathJax.Hub.Queue" in chapter and r"\nabla f(x_k)" in chapter


def synthetic_course(root, widget_output):
    """A two-chapter course in `root`: chapter 00 displays `widget_output`, chapter 01 links to 00 and a guide."""
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "notebooks").mkdir()
    (root / "docs").mkdir()
    guide = "# A guide\n\n## Some heading\n\nBack to [the chapter](../notebooks/00_a.ipynb).\n"
    (root / "docs" / "guide.md").write_text(guide)
    (root / "notebooks" / "helper.py").write_text("print('a file a chapter links to')\n")
    first = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 00 · A chapter\n\n## Section two\n\nAn explorer:"),
        nbformat.v4.new_code_cell("explorer()", outputs=[nbformat.v4.new_output("display_data", data=widget_output)]),
    ])
    first.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}}
    second = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "# 01 · Next\n\nSee [section two](00_a.ipynb#Section-two), [the guide](../docs/guide.md#some-heading) "
        "and [the helper](helper.py).")])
    nbformat.write(first, root / "notebooks" / "00_a.ipynb")
    nbformat.write(second, root / "notebooks" / "01_b.ipynb")


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"initial state of the explorer").decode()
VIEW = {"model_id": "0123abcd", "version_major": 2, "version_minor": 0}


def test_a_widget_with_a_static_image_shows_the_image_and_no_widget_script(tmp_path):
    synthetic_course(tmp_path, {"application/vnd.jupyter.widget-view+json": VIEW, "image/png": PNG,
                                "text/plain": "Explorer(...)"})
    out = build_site.build(tmp_path / "site", root=tmp_path)
    page = (out / "notebooks" / "00_a.html").read_text(encoding="utf-8")
    assert f'src="data:image/png;base64,{PNG}"' in page
    assert "widget-view+json" not in page and "widget-state+json" not in page
    assert "require" not in Parsed(page).scripts and build_site.LIVE_ONLY not in page
    second = Parsed((out / "notebooks" / "01_b.html").read_text(encoding="utf-8"))
    assert "00_a.html#Section-two" in second.links and "../docs/guide.html#Some-heading" in second.links
    assert "helper.py" in second.links and (out / "notebooks" / "helper.py").is_file()


def test_a_widget_without_a_static_image_says_where_it_runs(tmp_path):
    synthetic_course(tmp_path, {"application/vnd.jupyter.widget-view+json": VIEW, "text/plain": "VBox(...)"})
    page = (build_site.build(tmp_path / "site", root=tmp_path) / "notebooks" / "00_a.html").read_text()
    assert build_site.LIVE_ONLY in page and "VBox(...)" not in page


def test_a_broken_link_stops_the_build_naming_it(tmp_path):
    synthetic_course(tmp_path, {"text/plain": "42"})
    path = tmp_path / "notebooks" / "01_b.ipynb"
    notebook = json.loads(path.read_text())
    notebook["cells"][0]["source"] += " Also [gone](02_missing.ipynb) and [a bad anchor](00_a.ipynb#Nowhere)."
    path.write_text(json.dumps(notebook))
    with pytest.raises(SystemExit) as stopped:
        build_site.build(tmp_path / "site", root=tmp_path)
    assert "02_missing.ipynb points at nothing" in str(stopped.value)
    assert "#Nowhere is not a heading of notebooks/00_a.html" in str(stopped.value)
