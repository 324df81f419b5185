"""Every page of both languages as a reader opens it: served over http and from disk, offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from .conftest import LANGUAGES, PAGES

#: TeX that a formula left on the page instead of rendering.
RAW_TEX = re.compile(
    r"\\(?:begin|end|frac|mathrm|cdot|times|left|right|text|lceil)\b|\\\[|\\\(|\$\$"
)
#: What a reader of each language searches for; each is on several pages.
QUERIES = {"en": ("KV cache", "quantization"), "zh_CN": ("显存", "量化", "KV cache")}
#: Names that the Chinese site shows as they are.
NAMES = {"gpumem", "Python API", "English", "Ctrl", "K", "+"}
#: The words of the page around the text (the theme's): tooltips, labels, buttons, footer.
CHROME_WORDS = """() => {
  const outside = (el) => !el.closest("article") && el.tagName !== "A";
  const labels = [...document.querySelectorAll("[title], [aria-label], [placeholder]")]
    .filter(outside)
    .flatMap((el) => ["title", "aria-label", "placeholder"].map((a) => el.getAttribute(a)));
  const texts = [...document.querySelectorAll("header button, footer p, header kbd")]
    .map((el) => el.innerText);
  return [...labels, ...texts].filter(Boolean).map((text) => text.trim()).filter(Boolean);
}"""
#: axe impacts that fail a page.
SERIOUS = ("serious", "critical")

TABLES_WIDER_THAN_COLUMN = """() => {
  const column = document.querySelector("article.bd-article") || document.querySelector("main");
  const limit = column.getBoundingClientRect().width + 1;
  return [...column.querySelectorAll("table")]
    .filter((table) => table.getBoundingClientRect().width > limit)
    .map((table) => `${Math.round(table.getBoundingClientRect().width)} px > ${limit - 1} px: `
      + table.innerText.slice(0, 60).replace(/\\s+/g, " "));
}"""

AXE_SERIOUS = """async (impacts) => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter((v) => impacts.includes(v.impact)).map((v) =>
    `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target).join(", ")}`);
}"""


def english_ok(text: str) -> bool:
    """Whether ``text`` of the Chinese site's chrome is Chinese or a name shown as it is."""
    return bool(re.search(r"[\u4e00-\u9fff]", text)) or text in NAMES


def other(language: str) -> str:
    """The other language of the site."""
    return LANGUAGES[1 - LANGUAGES.index(language)]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", PAGES)
def test_page(page: Page, root_url: str, axe: Path, language: str, name: str) -> None:
    """No console error, no raw TeX offline, no table wider than the text, no serious axe
    violation (served: the page is the same from disk), and the language switcher lands on
    the same page in the other language."""
    page.goto(f"{root_url}{language}/{name}")
    problems = list(page.problems)
    text = page.inner_text("body")
    problems += [f"raw TeX: …{m.group()}…" for m in RAW_TEX.finditer(text)][:3]
    problems += page.evaluate(TABLES_WIDER_THAN_COLUMN)
    if language == "zh_CN":
        words = page.evaluate(CHROME_WORDS)
        problems += [f"English on the Chinese page: {w!r}" for w in words if not english_ok(w)]
    if root_url.startswith("http"):
        page.add_script_tag(path=str(axe))
        problems += page.evaluate(AXE_SERIOUS, list(SERIOUS))
    target = other(language)
    page.click(f".gpumem-languages a[hreflang='{target.replace('_', '-')}']")
    try:
        page.wait_for_url(f"{root_url}{target}/{name}", wait_until="domcontentloaded")
        assert page.get_attribute("html", "lang") == target.replace("_", "-")
    except (PlaywrightError, AssertionError):
        problems.append(f"language switcher went to {page.url}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("language", "query"), [(lang, query) for lang in LANGUAGES for query in QUERIES[lang]]
)
def test_search(page: Page, root_url: str, language: str, query: str) -> None:
    """The search page lists results for the words a reader looks for, in either language."""
    page.goto(f"{root_url}{language}/search.html?q={query}")
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=10_000)
    assert results.count() >= 2
    assert not page.problems, "\n".join(page.problems)


def test_root_sends_to_a_language(page: Page, root_url: str) -> None:
    """The site's root page forwards an English-speaking browser to the English home page."""
    page.goto(root_url + "index.html")
    page.wait_for_url(f"{root_url}en/index.html")
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("name", ["index", "estimate"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_screenshot(page: Page, http_url: str, screenshots: Path, language: str, name: str) -> None:
    """A picture of the home page and of a page of formulas per language, kept under _build/."""
    page.goto(f"{http_url}{language}/{name}.html")
    page.evaluate("document.fonts.ready")
    path = screenshots / f"{name}-{language}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
