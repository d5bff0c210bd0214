"""The audit log speaks (issue 12, point 11): every action name the code writes has a phrase, and
the page shows who did what to whom in words — the actor's name and institution, the action, the
resident's masked name, the record, the care relationship — never an action code or an internal
resident number."""

from __future__ import annotations

import ast
import re
from enum import StrEnum
from pathlib import Path

from tests.factories import signed_resident
from tests.fixtures_app import Api
from yilian.admissions.rules import Action as AdmissionAction
from yilian.auth import rules
from yilian.core.db import Database
from yilian.core.i18n import gettext
from yilian.core.masking import mask_name
from yilian.referrals.rules import Action as ReferralAction
from yilian.referrals.rules import TaskStatus

SRC = Path(__file__).resolve().parents[2] / "src" / "yilian"
TIANLIN = "田林社区卫生服务中心"
ACTION_NAME = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
# Where the action is among the arguments of each call that writes an audit row.
AUDIT_CALLS = {"record": 2, "require": 2, "event": 1, "require_office": 2, "own_task": 4}
# An action made of a family and an enum's value: f"referral.{action.value}".
FAMILIES: dict[str, type[StrEnum]] = {
    "referral": ReferralAction,
    "admission": AdmissionAction,
    "follow_up": TaskStatus,
}


def written_actions() -> set[str]:
    """Every action name the sources pass to the audit trail: string arguments of the calls
    above, `action=` keywords, the string constants of a function that passes a variable on, the
    booking statements' literal, and each family of f-strings with every value of its enum."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]:
            for call in [n for n in ast.walk(function) if isinstance(n, ast.Call)]:
                name = getattr(call.func, "attr", getattr(call.func, "id", None))
                argument = None
                if name in AUDIT_CALLS and len(call.args) > AUDIT_CALLS[name]:
                    argument = call.args[AUDIT_CALLS[name]]
                for keyword in call.keywords:
                    if keyword.arg == "action":
                        argument = keyword.value
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    found.add(argument.value)
                elif isinstance(argument, ast.JoinedStr):
                    head = argument.values[0]
                    assert isinstance(head, ast.Constant), ast.unparse(argument)
                    family = str(head.value).rstrip(".")
                    assert family in FAMILIES, f"{path.name}: {ast.unparse(argument)}: which enum?"
                    found |= {f"{family}.{value}" for value in FAMILIES[family]}
                elif isinstance(argument, ast.Name) and name in AUDIT_CALLS:
                    found |= {
                        n.value
                        for n in ast.walk(function)
                        if isinstance(n, ast.Constant)
                        and isinstance(n.value, str)
                        and ACTION_NAME.match(n.value)
                    }
        for literal in re.findall(r"'([a-z_]+\.[a-z_]+)', :resident_id", path.read_text(encoding="utf-8")):
            found.add(literal)  # the booking statements write their audit row in SQL
    return {action for action in found if ACTION_NAME.match(action)}


def test_every_action_the_code_writes_has_words() -> None:
    written = written_actions()
    assert {"auth.sign_in", "appointment.create", "referral.accept", "admission.discharge"} <= written
    assert {"follow_up.done", "clinic.session.view"} <= written
    missing = sorted(written - rules.ACTION_WORDS.keys())
    assert not missing, f"actions without words in auth.rules.ACTION_WORDS: {missing}"


def test_each_phrase_is_chinese_and_unknown_actions_still_read() -> None:
    for action, words in rules.ACTION_WORDS.items():
        zh = gettext("zh_Hans", words)
        assert zh != words, action
        assert not re.search(r"[A-Za-z]{2,}", zh), (action, zh)
    assert rules.action_words("nothing.known") == rules.UNKNOWN_ACTION


def test_the_record_and_the_care_relationship_in_words() -> None:
    assert rules.record_words({"referral_id": 12, "bed_id": 3}) == ("referral #%(id)s", 12)
    assert rules.record_words({"resident_ids": [1, 2]}) is None
    assert rules.record_words(None) is None
    assert rules.care_words("contract:3") == ("family-doctor contract #%(id)s", 3)
    assert rules.care_words("registration:7") == ("registered at this centre", 7)
    assert rules.care_words(None) is None
    assert gettext("zh_Hans", "referral #%(id)s", id=12) == "转诊 #12"


def test_a_name_is_masked_to_its_family_name_and_last_character() -> None:
    assert [mask_name(n) for n in ("王丽萍", "王萍", "欧阳娜娜", "王")] == ["王*萍", "王*", "欧**娜", "*"]


async def test_the_audit_page_says_who_did_what_to_whom(api: Api, app_db: Database) -> None:
    mine = await signed_resident(app_db, TIANLIN)
    doctor = await api.as_("fd.tianlin")
    assert (await doctor.get(f"/api/v1/residents/{mine.id}")).status_code == 200
    admin = await api.browser("admin.xuhui")
    page = await admin.get("/audit", params={"action": "resident.read"})
    assert page.status_code == 200
    main = page.text.split("<main", 1)[1]
    row = main.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert "陈佳怡" in row  # the actor's name
    assert TIANLIN in row  # and institution
    assert "查看居民档案" in row  # the action in words
    assert mask_name(mine.name) in row  # the resident, masked
    assert mine.name not in row
    assert "家庭医生签约 #" in row  # the care relationship it went through
    shown = re.sub(r"<[^>]+>", " ", main)  # what is read, not the links' and options' values
    for code in ("resident.read", "fd.tianlin", "contract:", "居民编号"):
        assert code not in shown, code
    # Tapping the name filters by the resident: the page names it, not its number.
    only = await admin.get("/audit", params={"resident_id": str(mine.id)})
    assert f"只看对 {mask_name(mine.name)} 的操作" in only.text
    # The API is unchanged: codes and numbers for the machines.
    events = (
        await (await api.as_("admin.xuhui")).get("/api/v1/audit-events", params={"action": "resident.read"})
    ).json()
    assert events["items"][0]["action"] == "resident.read"
    assert events["items"][0]["resident_id"] == mine.id
