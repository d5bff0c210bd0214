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
