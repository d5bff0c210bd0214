"""GB 11643 check digit, ID facts, phone shapes and masking."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yilian.core import masking
from yilian.directory import rules

AREAS = st.sampled_from(["310104", "310116", "310151", "110101", "440305"])
BIRTH_DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 31))
SEQUENCES = st.integers(min_value=0, max_value=999)


def make_number(area: str, born: date, sequence: int) -> str:
    first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
    return first17 + rules.check_character(first17)


@given(AREAS, BIRTH_DATES, SEQUENCES)
def test_valid_numbers_parse_to_their_facts(area: str, born: date, sequence: int) -> None:
    facts = rules.parse_id_number(make_number(area, born, sequence))
    assert facts.area == area
    assert facts.birth_date == born
    assert facts.sex is (rules.Sex.MALE if sequence % 2 else rules.Sex.FEMALE)


@given(AREAS, BIRTH_DATES, SEQUENCES, st.integers(min_value=0, max_value=17), st.data())
def test_every_single_character_corruption_is_refused(
    area: str, born: date, sequence: int, position: int, data: st.DataObject
) -> None:
    number = make_number(area, born, sequence)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    corrupted = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(rules.InvalidIdNumberError):
        rules.parse_id_number(corrupted)


def test_known_number_and_lower_case_x() -> None:
    # The standard's worked example: 11010519491231002X, a woman born 1949-12-31.
    facts = rules.parse_id_number("11010519491231002x")
    assert (facts.birth_date, facts.sex) == (date(1949, 12, 31), rules.Sex.FEMALE)


# Numbers of the real format whose check characters were worked out outside this code base
# (ISO 7064 MOD 11-2 from its definition), written out so that a wrong weight, a wrong
# character table or a mishandled X in rules cannot agree with itself: every check
# character the table has trouble with (2, 3, X) and the two ends (0, 1).
OUTSIDE_NUMBERS = [
    ("11010519491231002X", date(1949, 12, 31)),  # GB 11643-1999's own example
    ("310104198005171002", date(1980, 5, 17)),
    ("310115196612241092", date(1966, 12, 24)),
    ("440305199511081043", date(1995, 11, 8)),
    ("330106195801021083", date(1958, 1, 2)),
    ("11010519720229118X", date(1972, 2, 29)),
    ("51010720010630101X", date(2001, 6, 30)),
    ("440305199511081000", date(1995, 11, 8)),
    ("510107200106301001", date(2001, 6, 30)),
]


@pytest.mark.parametrize(("number", "born"), OUTSIDE_NUMBERS, ids=[n for n, _ in OUTSIDE_NUMBERS])
def test_numbers_checked_outside_the_code_are_accepted(number: str, born: date) -> None:
    facts = rules.parse_id_number(number)
    assert (facts.area, facts.birth_date) == (number[:6], born)


@pytest.mark.parametrize("number", [number for number, _ in OUTSIDE_NUMBERS])
def test_the_same_numbers_with_one_character_changed_are_refused(number: str) -> None:
    """Any one digit of the 17 changed, or another check character: the check digit says no."""
    for position in range(18):
        alphabet = "0123456789X" if position == 17 else "0123456789"
        for replacement in alphabet.replace(number[position], ""):
            changed = number[:position] + replacement + number[position + 1 :]
            with pytest.raises(rules.InvalidIdNumberError, match="check digit"):
                rules.parse_id_number(changed)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("3101041990010112", "17 digits"),
        ("31010419900101123A", "17 digits"),
        ("310104199002301234", "check digit"),  # shape fine, checked before the date
        ("110105194912310021", "check digit"),
    ],
)
def test_malformed_numbers_say_why(number: str, reason: str) -> None:
    with pytest.raises(rules.InvalidIdNumberError, match=reason):
        rules.parse_id_number(number)


def test_impossible_birth_date_with_right_check_digit() -> None:
    first17 = "31010419900230123"  # 30 February
    with pytest.raises(rules.InvalidIdNumberError, match="real date"):
        rules.parse_id_number(first17 + rules.check_character(first17))


def test_masks() -> None:
    assert masking.mask_id_number("310104199001011234") == "310104********1234"
    assert masking.mask_phone("13812341234") == "138****1234"
    assert masking.mask_phone("021-64361234") == "021*****1234"


@given(AREAS, BIRTH_DATES, SEQUENCES, st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mask_text_leaves_no_number_whole(area: str, born: date, sequence: int, phone: str) -> None:
    number = make_number(area, born, sequence)
    line = f"GET /residents?q={number} phone={phone} from 127.0.0.1"
    masked = masking.mask_text(line)
    assert number not in masked
    assert phone not in masked
    assert masking.mask_id_number(number) in masked
    assert masking.mask_phone(phone) in masked


@pytest.mark.parametrize("phone", ["13812341234", "+86 138 1234 1234", "021-64361234", "02164361234"])
def test_phone_shapes_accepted(phone: str) -> None:
    assert rules.normalise_phone(phone)


@pytest.mark.parametrize("phone", ["12812341234", "1381234123", "hello", "138123412345"])
def test_phone_shapes_refused(phone: str) -> None:
    with pytest.raises(ValueError, match="mainland"):
        rules.normalise_phone(phone)


def test_contract_is_current_until_its_last_day() -> None:
    active = rules.ContractStatus.ACTIVE
    assert rules.contract_is_current(active, date(2026, 11, 24), date(2026, 11, 24))
    assert not rules.contract_is_current(active, date(2026, 11, 23), date(2026, 11, 24))
    assert not rules.contract_is_current(rules.ContractStatus.ENDED, date(2027, 1, 1), date(2026, 11, 24))


def test_contract_status_read_back_as_plain_text_counts() -> None:
    assert rules.contract_is_current("active", date(2027, 1, 1), date(2026, 11, 24))


# --- 统一社会信用代码 (GB 32100) and area codes (GB/T 2260) ---------------------------------------


@pytest.mark.parametrize("code", ["91350100M000100Y43", "12310000425011696E", " 12310000425011696e "])
def test_a_valid_credit_code_passes(code: str) -> None:
    assert rules.credit_code_refusal(code) is None


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("123100004250116960", "check character"),
        ("12310000425011696", "18 digits"),
        ("1231000042501169IE", "18 digits"),  # I is not a credit-code character
        ("129900004250116960", "area code"),  # 99 is no province
    ],
)
def test_an_invalid_credit_code_is_refused_saying_why(code: str, why: str) -> None:
    refusal = rules.credit_code_refusal(code)
    assert refusal is not None
    assert why in refusal


@given(st.text(alphabet=rules.CREDIT_CODE_CHARS, min_size=9, max_size=9))
def test_only_the_computed_check_character_passes(organisation: str) -> None:
    first17 = "12310104" + organisation
    good = rules.credit_code_check(first17)
    assert rules.credit_code_refusal(first17 + good) is None
    for wrong in set(rules.CREDIT_CODE_CHARS) - {good}:
        assert rules.credit_code_refusal(first17 + wrong) is not None


def test_district_codes() -> None:
    assert rules.district_code_refusal("310104") is None
    assert rules.district_code_refusal("990104") is not None
    assert rules.district_code_refusal("31010") is not None
