"""Masking reads free text as a person does (issue 11 §4): ID numbers and mobiles glued to
letters, written in groups, after +86, or percent-encoded are masked all the same."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.factories import id_number
from yilian.core.masking import has_personal_numbers, mask_id_number, mask_phone, mask_text

LETTERS = st.text(alphabet="abcxyzXY中文,;:/?=&()[]", max_size=6)
SEPARATORS = st.sampled_from(["", " ", "-", "%20"])
MOBILES = st.builds(
    lambda second, rest: f"1{second}{rest:09d}", st.sampled_from("3456789"), st.integers(0, 10**9 - 1)
)
IDS = st.builds(lambda _: id_number(), st.integers())


def grouped(digits: str, sizes: tuple[int, ...], separator: str) -> str:
    parts, start = [], 0
    for size in sizes:
        parts.append(digits[start : start + size])
        start += size
    return separator.join(parts)


def percent_encoded(text: str) -> str:
    return "".join(f"%{ord(c):02X}" for c in text)


def hides(masked: str, full: str) -> bool:
    digits = "".join(c for c in masked if c.isdigit() or c in "Xx")
    return full not in digits and full[6:14] not in digits


@given(
    LETTERS, LETTERS, MOBILES, SEPARATORS, st.sampled_from(["", "+86", "+86 ", "86-", "86", "%2B86", "0086"])
)
def test_a_mobile_is_masked_however_it_is_written(
    before: str, after: str, mobile: str, separator: str, prefix: str
) -> None:
    written = prefix + grouped(mobile, (3, 4, 4), separator)
    masked = mask_text(f"{before}{written}{after}")
    assert mobile not in masked.replace(" ", "").replace("-", "").replace("%20", "")
    assert mask_phone(mobile) in masked
    assert masked.startswith(before)
    assert masked.endswith(after)


@given(LETTERS, LETTERS, IDS, SEPARATORS, st.booleans())
def test_an_id_number_is_masked_however_it_is_written(
    before: str, after: str, number: str, separator: str, encoded: bool
) -> None:
    written = grouped(
        percent_encoded(number) if encoded else number, (18, 24, 12) if encoded else (6, 8, 4), separator
    )
    masked = mask_text(f"{before}{written}{after}")
    assert hides(masked, number), masked
    assert mask_id_number(number) in masked


@given(
    st.text(alphabet="abc 中文.,:-0123456789", max_size=40).filter(lambda t: sum(c.isdigit() for c in t) < 11)
)
def test_text_without_eleven_digits_is_left_alone(text: str) -> None:
    assert mask_text(text) == text
    assert not has_personal_numbers(text)


def test_the_examples_of_the_issue() -> None:
    assert mask_text("abc13812345678xyz") == "abc138****5678xyz"
    assert mask_text("+8613812345678") == "+86138****5678"
    assert mask_text("+86 138 1234 5678") == "+86 138****5678"
    assert mask_text("86-13812345678") == "86-138****5678"
    assert mask_text("q=310104%2019800517%201234") == "q=310104********1234"
    assert mask_text("abc310104198005171234xyz") == "abc310104********1234xyz"
    assert (
        mask_text("100%30 done at 2026-12-05 17:02:48.123456") == "100%30 done at 2026-12-05 17:02:48.123456"
    )
