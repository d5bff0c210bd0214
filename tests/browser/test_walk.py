"""Every page of every demo role on a 390×844 phone, in Chinese (issue 12, point 9): signed in
as each account of DESIGN §6, the walk (yilian.tour.walk) opens the home page and, breadth-first,
one page of each kind its navigation and its pages link to. On each it fails on:

- a horizontal scroll (the page wider than the screen);
- a visible interactive element (link, button, field, summary, a label around a box) smaller
  than 44×44 CSS px;
- visible text under 12 px, or a body font under 15 px;
- an English word in Chinese mode, outside proper names: acronyms in capitals (ECG, ICD-10, PDF,
  CT, ID …), a few units and names (ALLOWED_WORDS), file names, and what the page marks as not to
  translate (`translate="no"`: a user name, a code) or as English (`lang="en"`: the language
  switch's "English", the brand's Yilian).

The header is one bar on a phone, and its 菜单 opens every section. One assertion per role lists
every page's failures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import LiveServer
from yilian import tour

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

MIN_TARGET = 44
MIN_TEXT = 12
MIN_BODY = 15
MAX_HEADER = 72  # px: one bar, not the sections in rows above every page
# Words a Chinese page may show in Latin letters besides acronyms in capitals (ECG, ICD, PDF, CT,
# ID, SHA …, up to five letters): units and names that are not in capitals.
ALLOWED_WORDS = ("Yilian", "SpO", "mmHg", "mmol", "kg", "cm", "mg", "ml", "bpm")
# A prescription's Latin abbreviations, as doctors write them in a summary ("200mg qd").
ALLOWED_WORDS += ("qd", "bid", "tid", "qid", "qn", "qod", "prn", "po", "iv", "im", "ih", "st")

# One function in the page: the problems of what it shows now, each a short sentence.
CHECKS = r"""
([minTarget, minText, minBody, allowed]) => {
  const problems = [];
  const width = document.documentElement.scrollWidth;
  if (width > innerWidth) problems.push(`horizontal scroll: ${width} px wide on ${innerWidth}`);
  const bodySize = parseFloat(getComputedStyle(document.body).fontSize);
  if (bodySize < minBody) problems.push(`body text ${bodySize} px`);
  const shown = (el) => el.checkVisibility({visibilityProperty: true, opacityProperty: true})
    && !el.closest(".visually-hidden, [aria-hidden=true]");
  const name = (el) => {
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || el.name || "").trim();
    return `${el.tagName.toLowerCase()} "${text.replace(/\s+/g, " ").slice(0, 30)}"`;
  };
  // A box (checkbox, radio) is tapped through its label: the label is the target.
  const targets = new Set();
  for (const el of document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], label"
  )) {
    if (el.tagName === "LABEL") {
      if (el.querySelector("input[type=checkbox], input[type=radio]")) targets.add(el);
    } else if (el.matches("input[type=checkbox], input[type=radio]") && el.closest("label")) {
      continue;
    } else {
      targets.add(el);
    }
  }
  for (const el of targets) {
    if (!shown(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 2 && box.height < 2) continue;  // a screen reader's copy
    if (box.width < minTarget - 0.5 || box.height < minTarget - 0.5) {
      problems.push(`small target ${Math.round(box.width)}×${Math.round(box.height)}: ${name(el)}`);
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const english = /[A-Za-z][A-Za-z'’-]*[A-Za-z]/g;
  const smalls = new Map();
  const words = new Map();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data.trim();
    const parent = node.parentElement;
    if (!text || !parent || parent.closest("script, style, template, noscript") || !shown(parent)) continue;
    const size = parseFloat(getComputedStyle(parent).fontSize);
    if (size < minText) smalls.set(`${size} px: "${text.slice(0, 30)}"`, true);
    if (parent.closest("[translate=no], [lang=en]")) continue;
    // A file's name is a proper name (心电图-0412.jpg).
    // A number as a printed form writes it ("No. 3") is a number.
    const read = text.replace(/[\p{L}\p{N}_.-]+\.(?:jpe?g|png|pdf)\b/giu, " ").replace(/\bNo\.\s*\d/g, " ");
    for (const token of read.match(/[A-Za-z0-9'’-]+/g) || []) {
      if (/\d/.test(token)) continue;  // a code: I10, ICD-10, SHA-256 and its digest, 200mg
      for (const word of token.match(english) || []) {
        if (!allowed.includes(word) && !/^[A-Z]{2,5}$/.test(word)) words.set(word, text.slice(0, 40));
      }
    }
  }
  for (const key of smalls.keys()) problems.push(`small text ${key}`);
  for (const [word, text] of words) problems.push(`English "${word}" in "${text}"`);
  return problems;
}
"""


@pytest.mark.parametrize("username", tour.ROLES)
def test_every_page_fits_a_phone(browser: Browser, live_server: LiveServer, username: str) -> None:
    context = browser.new_context(viewport=tour.PHONE, locale="zh-CN")
    page = context.new_page()
    failures: dict[str, list[str]] = {}
    opened = []
    checks = [MIN_TARGET, MIN_TEXT, MIN_BODY, list(ALLOWED_WORDS)]
    try:
        tour.sign_in(page, live_server.base_url, username)
        for visit in tour.walk(page, live_server.base_url):
            opened.append(visit.path)
            problems = (
                [] if visit.status == 200 else [f"answered {visit.status} (linked from {visit.linked_from})"]
            )
            problems += page.evaluate(CHECKS, checks)
            if problems:
                failures[visit.path] = problems
        # The header is one bar (the brand on one line, 通知, 菜单); 菜单 opens every section.
        page.goto(live_server.url("/"))
        header = page.locator(".site-header").bounding_box()
        assert header is not None
        problems = [f"header {header['height']:.0f} px high"] if header["height"] > MAX_HEADER else []
        page.locator("header summary", has_text="菜单").click()
        sections = page.locator(".site-menu-panel nav a")
        if sections.count() < 3 or not all(link.is_visible() for link in sections.all()):
            problems.append(f"菜单 shows {sections.count()} sections")
        problems += page.evaluate(CHECKS, checks)
        if problems:
            failures["/ with 菜单 open"] = problems
    finally:
        context.close()
    assert len(opened) >= 3, f"{username} reached only {opened}"
    report = "\n".join(f"{path}:\n  " + "\n  ".join(problems) for path, problems in failures.items())
    assert not failures, f"{username}: {len(failures)} of {len(opened) + 1} views fail on a phone:\n{report}"
