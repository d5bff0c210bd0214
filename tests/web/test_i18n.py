"""The Chinese catalogue covers every message, every translation is finished, the .mo is current."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from yilian.core.i18n import LOCALE_DIR, LOCALES, gettext

ROOT = Path(__file__).resolve().parents[2]
PO = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def load_po() -> Catalog:
    with PO.open("rb") as file:
        return read_po(file, locale="zh_Hans")


def ids(catalog: Catalog) -> set[str]:
    return {message.id for message in catalog if message.id and isinstance(message.id, str)}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages the code and templates use now, extracted as scripts/i18n.sh does."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "i18n.sh"), "extract", str(pot)],
        check=True,
        capture_output=True,
        env={"PYBABEL": str(pybabel), "PATH": "/usr/bin:/bin"},
    )
    with pot.open("rb") as file:
        return read_po(file)


def test_extraction_finds_the_messages_of_code_and_templates(extracted: Catalog) -> None:
    found = ids(extracted)
    assert "The username or password is wrong." in found  # N_() in yilian/errors.py
    assert "Show full ID number" in found  # _() in a template
    assert "Hello, %(name)s" in found  # t() in a template


def test_every_message_in_use_is_in_the_catalogue(extracted: Catalog) -> None:
    missing = ids(extracted) - ids(load_po())
    assert missing == set(), "run scripts/i18n.sh and translate the new messages"


def test_every_message_is_translated_and_not_fuzzy() -> None:
    catalog = load_po()
    assert not catalog.fuzzy, "the catalogue's header is marked fuzzy"
    unfinished = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert unfinished == []


def test_translations_keep_their_placeholders() -> None:
    wrong = [
        m.id
        for m in load_po()
        if m.id
        and isinstance(m.id, str)
        and isinstance(m.string, str)
        and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert wrong == []


def test_the_compiled_catalogue_matches_the_po() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, load_po())
    compiled.seek(0)
    with MO.open("rb") as file:
        shipped = read_mo(file)
    fresh = read_mo(compiled)
    assert {m.id: m.string for m in shipped if m.id} == {m.id: m.string for m in fresh if m.id}, (
        "messages.mo is stale: run scripts/i18n.sh"
    )


def test_chinese_is_the_default_and_english_is_the_message_id() -> None:
    assert LOCALES[0] == "zh_Hans"
    assert gettext("zh_Hans", "The username or password is wrong.") == "用户名或密码错误。"
    assert gettext("en", "The username or password is wrong.") == "The username or password is wrong."
