"""A searchable ICD-10 list (code + Chinese name), shipped as data: a modest subset of about 220
codes common in community and referral practice (data/icd10_zh.csv), not the full classification."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent.parent / "data" / "icd10_zh.csv"


@dataclass(frozen=True)
class Code:
    code: str
    text: str


@cache
def codes() -> tuple[Code, ...]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        return tuple(Code(row["code"], row["text"]) for row in csv.DictReader(handle))


def search(q: str, *, limit: int = 20) -> list[Code]:
    """Codes whose code starts with `q` (I10, E11) or whose Chinese name contains it (高血压)."""
    needle = q.strip()
    if not needle:
        return list(codes()[:limit])
    upper = needle.upper()
    starts = [c for c in codes() if c.code.startswith(upper)]
    named = [c for c in codes() if needle in c.text and c not in starts]
    return (starts + named)[:limit]


def known(code: str) -> Code | None:
    return next((c for c in codes() if c.code == code), None)


def named_in(text: str) -> Code | None:
    """The code whose Chinese name the free text holds, the longest such (右股骨颈骨折 → S72.0
    股骨颈骨折), or None: how an admission's diagnosis becomes the form's first coded one."""
    found = [c for c in codes() if c.text in text]
    return max(found, key=lambda c: len(c.text), default=None)
