"""What the suites count as personal data when they scan every answer and log line for leaks."""

from __future__ import annotations

from yilian.directory.rules import InvalidIdNumberError, credit_code_refusal, parse_id_number


def is_id_number(candidate: str) -> bool:
    """Whether 18 characters of an ID number's shape are one: every such run but an institution's
    统一社会信用代码 (GB 32100, public, digits only for many) that is no valid GB 11643 number."""
    if credit_code_refusal(candidate) is not None:
        return True
    try:
        parse_id_number(candidate)
    except InvalidIdNumberError:
        return False
    return True
