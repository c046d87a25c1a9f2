"""The built docs, as a reader meets them offline: math that renders, nothing from other hosts,
no dead internal links, no internal wording, and the paper's numbers beside ours on every
tutorial page. Runs after ``sphinx-build`` (CI does so); skipped where the docs are not built.
"""

from __future__ import annotations

import os
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

HTML = Path(os.environ.get("SNNTORCH_EXT_DOCS_HTML",
                          Path(__file__).resolve().parent.parent / "docs" / "_build" / "html"))
pytestmark = pytest.mark.skipif(not (HTML / "index.html").is_file(),
                                reason="docs not built (sphinx-build -n -W docs docs/_build/html)")

INTERNAL_WORDS = re.compile(r"SPEC\.md|\bSPEC section|acceptance test|\bthe issue\b|"
                            r"\bissue's\b|\bissue \d+", re.IGNORECASE)
NEVER_IN_HTML = ("SPEC.md", "SPEC section", "acceptance test")  # not even in source listings
MATH_CLASSES = {"math"}
SKIP_TEXT_TAGS = {"script", "style", "pre", "code"}


class Page(HTMLParser):
    """What the tests need from one page: assets, links, ids, tables and visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.assets: list[str] = []      # src/href of scripts, stylesheets, images, fonts
        self.links: list[str] = []       # href of <a>
        self.ids: set[str] = set()
        self.tables: list[list[str]] = []  # header cells of every table
        self.text: list[str] = []        # visible text outside math, code and scripts
        self.math_text: list[str] = []
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, in math, in skipped)
        self._in_th = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "name" in attrs:
            self.ids.add(attrs["name"])
        if tag == "script" and attrs.get("src"):
            self.assets.append(attrs["src"])
        if tag == "link" and attrs.get("href") and attrs.get("rel") in (
                "stylesheet", "preload", "icon", "modulepreload"):
            self.assets.append(attrs["href"])
        if tag in ("img", "source", "iframe") and attrs.get("src"):
            self.assets.append(attrs["src"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "table":
            self.tables.append([])
        if tag == "th":
            self._in_th = True
        if tag in ("br", "img", "meta", "link", "input", "hr", "source", "wbr"):
            return
        math = bool(MATH_CLASSES & set((attrs.get("class") or "").split()))
        parent_math, parent_skip = (self._stack[-1][1:] if self._stack else (False, False))
        self._stack.append((tag, parent_math or math, parent_skip or tag in SKIP_TEXT_TAGS))

    def handle_endtag(self, tag):
        if tag == "th":
            self._in_th = False
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self._in_th and self.tables:
            self.tables[-1].append(data.strip())
        in_math, skipped = self._stack[-1][1:] if self._stack else (False, False)
        if in_math:
            self.math_text.append(data)
        elif not skipped:
            self.text.append(data)


@cache
def page(path: Path) -> Page:
    parsed = Page()
    parsed.feed(path.read_text(encoding="utf-8"))
    return parsed


def _pages() -> list[Path]:
    if not HTML.is_dir():
        return []
    return sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts)


def _remote(url: str) -> bool:
    return url.startswith("//") or urlsplit(url).scheme in ("http", "https")


def test_pages_were_built():
    names = {p.relative_to(HTML).as_posix() for p in _pages()}
    for expected in ("index.html", "api.html", "design_decisions.html", "citing.html",
                     "tutorials/index.html"):
        assert expected in names


def test_no_page_loads_anything_from_another_host():
    offenders = {p.relative_to(HTML).as_posix(): [a for a in page(p).assets if _remote(a)]
                 for p in _pages()}
    assert not {k: v for k, v in offenders.items() if v}


def test_no_stylesheet_imports_from_another_host():
    remote = re.compile(r"(@import|url\()\s*['\"]?(https?:)?//", re.IGNORECASE)
    offenders = [p.relative_to(HTML).as_posix() for p in (HTML / "_static").rglob("*.css")
                 if remote.search(p.read_text(encoding="utf-8", errors="replace"))]
    assert not offenders


def test_math_is_rendered_by_a_local_mathjax():
    pages_with_math = [p for p in _pages() if page(p).math_text]
    assert pages_with_math, "no page has math"
    for path in pages_with_math:
        scripts = [a for a in page(path).assets if "mathjax" in a.lower()]
        assert scripts, f"{path.name} has math but loads no MathJax"
        for src in scripts:
            assert not _remote(src), f"{path.name} loads MathJax from {src}"
            target = (path.parent / urlsplit(src).path).resolve()
            assert target.is_file(), f"{path.name}: {src} is not in the build"
    fonts = HTML / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("*.woff")), "MathJax's fonts are not in the build"


def test_no_latex_outside_math():
    for path in _pages():
        text = "".join(page(path).text)
        raw = re.findall(r"\\[(\[]|\\(frac|mathcal|math|partial|tau|alpha|beta)\b", text)
        assert not raw, f"{path.relative_to(HTML)} shows raw LaTeX: {raw[:5]}"


def test_internal_links_and_anchors_resolve():
    dead = []
    for path in _pages():
        for href in page(path).links:
            if _remote(href) or href.startswith(("mailto:", "javascript:")):
                continue
            parts = urlsplit(href)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                dead.append(f"{path.relative_to(HTML)} -> {href}")
            elif parts.fragment and target.suffix == ".html" and \
                    unquote(parts.fragment) not in page(target).ids:
                dead.append(f"{path.relative_to(HTML)} -> {href}")
    assert not dead, f"{len(dead)} dead links, e.g. {dead[:10]}"


def test_no_internal_wording():
    found = {}
    for path in _pages():
        hits = INTERNAL_WORDS.findall("".join(page(path).text))
        raw = path.read_text(encoding="utf-8")
        hits += [word for word in NEVER_IN_HTML if word in raw]
        if hits:
            found[path.relative_to(HTML).as_posix()] = sorted(set(hits))
    assert not found


def test_every_tutorial_has_a_table_with_the_paper_beside_ours():
    tutorials = sorted((HTML / "tutorials").glob("[0-9][0-9]_*.html"))
    assert tutorials, "no tutorial page"
    if not any("sphx-glr-script-out" in p.read_text(encoding="utf-8") for p in tutorials):
        pytest.skip("tutorials were built without running them (-D plot_gallery=0)")
    for path in tutorials:
        headers = page(path).tables
        assert any(any(h.startswith("paper") for h in header)
                   and any(h.startswith("ours, quick") for h in header)
                   for header in headers), f"{path.name} has no table with a paper column"


def test_navigation_lists_command_line_once():
    text = (HTML / "index.html").read_text(encoding="utf-8")
    toctree = text[text.index('class="toctree-wrapper'):]
    assert toctree.count(">Command line<") == 1


def test_two_is_documented_under_its_public_name():
    assert 'id="snntorch_ext.TWO"' in (HTML / "api.html").read_text(encoding="utf-8")
