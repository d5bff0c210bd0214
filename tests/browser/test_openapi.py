"""Schemathesis over the live server's OpenAPI (DESIGN §5, §7): every operation, signed in with a
bearer token, answers without a server error and as its schema says (status codes, content
types, bodies, headers), and refuses malformed input with a 4xx. Each operation on its own
(examples, coverage and fuzzing phases; every operation as a family doctor on SQLite and on
PostgreSQL, the role-dependent ones again as the system admin), then in sequences (stateful).

The schema is the app's own, made in-process so that pytest can collect one test per operation
before the server runs; a test checks that the server publishes exactly that document.

Every operation is fuzzed, POST /api/v1/auth/token included: the sign-in throttle counts failures
by username (the server's address budget is raised: every client here is 127.0.0.1), and the
generated usernames are never a demo account's, so the token of the run
(obtained first) and the browser test's sign-in are safe; that operation answers 401 to
unknown credentials, which it documents.

One built-in check is replaced: `positive_data_acceptance` expects every schema-valid request
to be accepted, but some rules cannot be written in JSON Schema (an ID number's check digit,
a contract expiring after it is signed); the API refuses those with 422 and a code of their
own. `schema_valid_input_accepted` below keeps the rest of that check: a schema-valid request
must never meet the framework's own validation (`validation_error`) nor any other 4xx the
operation does not explain.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis import Case, CheckContext, Response

from tests.browser.conftest import LiveServer

MAX_EXAMPLES = 20
STATEFUL_EXAMPLES = 15
STATEFUL_STEPS = 8
SEED = 20261124
# Every operation as a family doctor (who sees residents, masked), on both engines ...
BACKENDS = ("sqlite", "postgresql")
SERVER_FIXTURES = {"sqlite": "live_server", "postgresql": "pg_live_server"}
# ... and the operations whose answer depends on the role again as the system admin (who sees
# the audit trail and no resident): all but the directory, which answers everyone alike, and
# the token endpoint and the probes, which know no role.
ROLE_DEPENDENT = r"^/api/v1/(?!(auth|consortia|institutions|departments|practitioners)\b)"
# What a schema-valid request may meet besides success (DESIGN §5): not signed in, not allowed,
# not found, a conflict, and a domain rule (422 with a code other than `validation_error`).
ACCEPTABLE_REFUSALS = frozenset({401, 403, 404, 409, 423, 429})


def problem_code(response: Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def schema_valid_input_accepted(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """`positive_data_acceptance`, except for the domain rules a schema cannot state (see above)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code < 400:
        return None
    status = response.status_code
    if status >= 500 or status in ACCEPTABLE_REFUSALS:
        return None  # a 5xx is `not_a_server_error`'s to report
    code = problem_code(response)
    if status == 422 and code not in {None, "validation_error"}:
        return None
    raise AssertionError(
        f"Schema-valid request rejected with {status} ({code or 'no problem code'}):"
        " the published schema and the server's validation disagree"
    )


def openapi_document() -> dict[str, Any]:
    """The OpenAPI the app publishes, made in this process: pytest collects one test per operation
    before the live server starts (test_served_schema_is_the_one_tested checks it is the same)."""
    from yilian.app import create_app
    from yilian.config import Settings

    # The engine connects on first use, which never comes: no database is made.
    unused = Path(tempfile.gettempdir()) / "yilian-openapi-only.db"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{unused}", secret_key="schema-only")
    document: dict[str, Any] = create_app(settings).openapi()
    return document


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",  # schema-valid and malformed requests
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",  # no .hypothesis/ in the working tree
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
        },
        # Every check, but positive_data_acceptance (replaced, see the module's docstring).
        "checks": {"positive_data_acceptance": {"enabled": False}},
        # No values lifted from the app's code: the demo usernames live there, and guessing
        # passwords with them would lock the accounts the tests sign in with.
        "analysis": {"constants": {"enabled": False}},
    }
)
DOCUMENT = openapi_document()
# The event stream never ends by design (tests/notices/test_events.py drives it): not fuzzed here.
schema = schemathesis.openapi.from_dict(
    copy.deepcopy(DOCUMENT), config=CONFIG
).exclude(  # it adds links in place
    path="/api/v1/events"
)


@dataclass(frozen=True)
class Target:
    """A live server and the bearer token of one of its users."""

    server: LiveServer
    headers: dict[str, str]

    def call_and_validate(self, case: Case) -> None:
        case.call_and_validate(
            base_url=self.server.base_url,
            headers=self.headers,
            additional_checks=[schema_valid_input_accepted],
            timeout=30,
        )


def signed_in(request: pytest.FixtureRequest, fixture: str, username: str) -> Target:
    server: LiveServer = request.getfixturevalue(fixture)
    return Target(server=server, headers={"Authorization": f"Bearer {server.token(username)}"})


@pytest.fixture(scope="session", params=BACKENDS)
def family_doctor(request: pytest.FixtureRequest) -> Target:
    return signed_in(request, SERVER_FIXTURES[request.param], "fd.tianlin")


# One backend, as a parameter all the same: each test's id then names its operation. A server of
# its own: the administrator's requests change the registers and accounts the other tests use.
@pytest.fixture(scope="session", params=["sqlite"])
def system_admin(request: pytest.FixtureRequest) -> Target:
    return signed_in(request, "fuzz_live_server", "sysadmin")


@schema.parametrize()
def test_api_as_a_family_doctor(case: Case, family_doctor: Target) -> None:
    family_doctor.call_and_validate(case)


@schema.include(path_regex=ROLE_DEPENDENT).parametrize()
def test_api_as_the_system_admin(case: Case, system_admin: Target) -> None:
    system_admin.call_and_validate(case)


def test_api_in_sequences_as_a_family_doctor(family_doctor: Target) -> None:
    """Stateful: responses feed later requests (a registered resident's id into its contract)."""
    target = family_doctor

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"base_url": target.server.base_url, "headers": target.headers, "timeout": 30}

        def validate_response(
            self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            checks = [schema_valid_input_accepted, *(additional_checks or [])]
            super().validate_response(response, case, additional_checks=checks, **kwargs)

    Sequences.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )


def test_served_schema_is_the_one_tested(live_server: LiveServer) -> None:
    served = httpx.get(live_server.url("/openapi.json"), timeout=10)
    assert served.status_code == 200
    assert served.json() == DOCUMENT
    labels = {f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item}
    for expected in ("GET /api/v1/me", "POST /api/v1/auth/token", "GET /api/v1/residents"):
        assert expected in labels
