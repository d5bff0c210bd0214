"""EXPERIMENT (not product code): the booking hot path that meets issue 4's targets.

`create_lean_app()` is `yilian.app.create_app()` with POST /api/v1/appointments served by a
lean route, to measure what docs/performance.md recommends:

1. the actor from an in-process token cache (30 s), not two ORM queries per request;
2. async-only dependencies (no thread-pool hop for `now`, `today`, `database`);
3. PostgreSQL: the whole booking as ONE statement in autocommit through a raw asyncpg pool
   whose release skips the reset round trip: data-modifying CTEs check the session's window
   and the contract, take the slot (conditional UPDATE ... FOR UPDATE SKIP LOCKED), insert
   the appointment, its audit row and the Idempotency-Key record carrying the response body;
   a concurrent retry of the key fails on the key's primary key, so the statement (and its
   slot) is undone and the first answer replayed. SQLite: one writer thread that runs every
   queued booking in one BEGIN IMMEDIATE ... COMMIT, a SAVEPOINT each (lean_sqlite.py);
4. a (session, pool) found full is remembered for 1 s: refusals in that second are answered
   before the framework (SoldOutShortCircuit), with the problem+json rendered once per locale.

The database still decides every booking; the rules of issue 4 hold (the storm checks them).
Left out, being off the hot path: the audit row of a refused family-doctor booking, and the
access-log line and metrics of short-circuited refusals (a product version keeps a counter).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from datetime import UTC, date, datetime
from typing import Annotated, Any

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI, Header, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.experiments.lean_sqlite import Writer
from yilian.app import create_app
from yilian.errors import DomainError, Forbidden, NotAuthenticated, NotFound
from yilian.i18n import negotiate
from yilian.idempotency import IdempotencyKeyReused
from yilian.scheduling.errors import AlreadyBooked, BookingClosed, NotSignedResident, SlotUnavailable
from yilian.scheduling.schemas import AppointmentIn
from yilian.web.deps import state
from yilian.web.middleware import SECURITY_HEADERS

TOKEN_TTL = 30.0
SOLD_OUT_TTL = 1.0
PATH = "/api/v1/appointments"

BOOK = """
WITH clinic AS (
  SELECT c.id, c.place, p.name AS doctor
  FROM clinic_sessions c JOIN practitioners p ON p.id = c.practitioner_id
  WHERE c.id = $1 AND c.status = 'open' AND $6 < c.starts_at
    AND $6 >= CASE WHEN $3 = 'community' THEN c.community_opens_at ELSE c.public_opens_at END
    AND ($3 = 'community' OR c.institution_id = $5)
), signed AS (
  SELECT 1 AS ok FROM contracts WHERE $3 = 'community' AND resident_id = $2 AND institution_id = $5
    AND status = 'active' AND expires_on >= $7
), fresh AS (
  SELECT 1 AS ok WHERE $9::text IS NULL OR NOT EXISTS
    (SELECT 1 FROM idempotency_records WHERE user_id = $4 AND key = $9)
), taken AS (
  UPDATE slots SET status = 'booked'
  WHERE id = (
    SELECT s.id FROM slots s WHERE s.session_id = $1 AND s.pool = $3 AND s.status = 'free'
      AND EXISTS (SELECT 1 FROM clinic) AND EXISTS (SELECT 1 FROM fresh)
      AND ($3 = 'public' OR EXISTS (SELECT 1 FROM signed))
    ORDER BY s.number LIMIT 1 FOR UPDATE SKIP LOCKED)
  AND status = 'free'
  RETURNING id, number, starts_at, ends_at
), appointment AS (
  INSERT INTO appointments (session_id, slot_id, resident_id, pool, booked_by, booked_via_institution_id,
                            booked_at, status)
  SELECT $1, id, $2, $3, $4, $5, $6, 'booked' FROM taken
  RETURNING id
), answer AS (
  SELECT json_build_object(
    'id', appointment.id, 'session_id', $1::int, 'resident_id', $2::int, 'slot_number', taken.number,
    'pool', $3::text,
    'starts_at', to_char(taken.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'ends_at', to_char(taken.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'status', 'booked', 'place', clinic.place, 'practitioner_name', clinic.doctor) AS body
  FROM appointment, taken, clinic
), audit AS (
  INSERT INTO audit_events (at, user_id, username, role, institution_id, action, resident_id, outcome,
                            client_addr, detail)
  SELECT $6, $4, $8, $10, $5, 'appointment.create', $2, 'allowed', $11,
         json_build_object('session_id', $1::int, 'slot', taken.number, 'pool', $3::text)
  FROM taken
), claim AS (
  INSERT INTO idempotency_records (user_id, key, request_hash, created_at, status_code, body)
  SELECT $4, $9, $12, $6, 201, answer.body FROM answer WHERE $9::text IS NOT NULL
)
SELECT EXISTS (SELECT 1 FROM clinic_sessions WHERE id = $1) AS known,
       EXISTS (SELECT 1 FROM clinic) AS open,
       EXISTS (SELECT 1 FROM signed) AS signed,
       EXISTS (SELECT 1 FROM fresh) AS fresh,
       (SELECT body::text FROM answer) AS body
"""

ACTOR = """
SELECT u.id, u.username, u.institution_id, array_agg(r.role) AS roles
FROM users u JOIN api_tokens t ON t.user_id = u.id JOIN user_roles r ON r.user_id = u.id
WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.is_active
GROUP BY u.id
"""
REPLAY = (
    "SELECT request_hash, status_code, body::text FROM idempotency_records WHERE user_id = $1 AND key = $2"
)

CachedActor = tuple[float, tuple[int, str, int | None, list[str]]]


async def _no_reset(_connection: asyncpg.Connection) -> None:
    """Autocommit single statements leave no session state: skip the pool's reset round trip."""


def _refusal(outcome: str) -> DomainError:
    return {
        "not_found": NotFound(what="Clinic session", id=0),
        "closed": BookingClosed(why="closed"),
        "not_signed": NotSignedResident(),
        "already_booked": AlreadyBooked(),
        "reused": IdempotencyKeyReused(),
    }.get(outcome) or SlotUnavailable()


class LeanBooking:
    """The lean route's state: token cache, sold-out memory, the database door of each engine."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgresql+asyncpg", "postgresql")
        self.tokens: dict[str, CachedActor] = {}
        self.full: dict[tuple[int, str], float] = {}
        self.rendered: dict[str, bytes] = {}
        self.writer = Writer(self.url.split(":///", 1)[1]) if self.url.startswith("sqlite") else None
        self.pool: asyncpg.Pool | None = None

    async def _pool(self) -> asyncpg.Pool:
        if self.pool is None:
            self.pool = await asyncpg.create_pool(self.url, min_size=2, max_size=10, reset=_no_reset)
        return self.pool

    async def actor(self, token: str, now: datetime) -> CachedActor | None:
        hit = self.tokens.get(token)
        if hit is not None and hit[0] > time.monotonic():
            return hit
        digest = hashlib.sha256(token.encode()).hexdigest()
        if self.writer is not None:
            row = await self.writer.submit("actor", digest, now)
        else:
            found = await (await self._pool()).fetchrow(ACTOR, digest, now)
            row = tuple(found) if found is not None else None
        if row is None:
            return None
        hit = (time.monotonic() + TOKEN_TTL, row)
        self.tokens[token] = hit
        return hit

    async def book(self, *args: Any) -> tuple[str, str | None]:  # noqa: PLR0911 — an outcome per rule
        """(outcome, body): booked | replay | not_found | closed | not_signed | full | already_booked."""
        if self.writer is not None:
            try:
                outcome, body = await self.writer.submit("book", *args)
            except sqlite3.IntegrityError as error:
                return ("replay" if "idempotency_records" in str(error) else "already_booked"), None
            return outcome, body
        try:
            row = await (await self._pool()).fetchrow(BOOK, *args)
        except asyncpg.UniqueViolationError as error:
            return ("replay" if error.constraint_name == "pk_idempotency_records" else "already_booked"), None
        if row["body"] is not None:
            return "booked", row["body"]
        if not row["fresh"]:
            return "replay", None
        if not row["known"]:
            return "not_found", None
        if not row["open"]:
            return "closed", None
        if args[2] == "community" and not row["signed"]:
            return "not_signed", None
        return "full", None

    async def replay(self, user_id: int, key: str) -> tuple[str, int, str] | None:
        if self.writer is not None:
            found: tuple[str, int, str] | None = await self.writer.submit("replay", user_id, key)
            return found
        row = await (await self._pool()).fetchrow(REPLAY, user_id, key)
        return (row[0], row[1], row[2]) if row is not None else None

    def known_full(self, session_id: int, pool: str) -> bool:
        return self.full.get((session_id, pool), 0.0) > time.monotonic()

    def problem(self, locale: str) -> bytes:
        if locale not in self.rendered:
            body = SlotUnavailable().problem(locale, PATH)
            self.rendered[locale] = json.dumps(body, ensure_ascii=False).encode()
        return self.rendered[locale]


def pool_of(roles: list[str]) -> tuple[str, str]:
    if "family_doctor" in roles:
        return "community", "family_doctor"
    if "registration" in roles:
        return "public", "registration"
    raise Forbidden()


def fingerprint(path: str, body: AppointmentIn) -> str:
    canonical = json.dumps(["POST", path, body.model_dump()], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_lean_app() -> ASGIApp:
    app: FastAPI = create_app()
    lean = LeanBooking(os.environ["YILIAN_DATABASE_URL"])

    async def book(
        request: Request,
        body: AppointmentIn,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
    ) -> Response:
        now = datetime.now(UTC)
        authorization = request.headers.get("authorization", "")
        hit = (
            await lean.actor(authorization[7:].strip(), now)
            if authorization[:7].lower() == "bearer "
            else None
        )
        if hit is None:
            raise NotAuthenticated()
        user_id, username, institution_id, roles = hit[1]
        pool, role = pool_of(roles)
        if lean.known_full(body.session_id, pool):
            raise SlotUnavailable()
        today: date = now.astimezone(state(request).settings.zone).date()
        key_hash = fingerprint(request.url.path, body) if idempotency_key else None
        client = request.client.host if request.client else None
        outcome, answer = await lean.book(
            body.session_id, body.resident_id, pool, user_id, institution_id, now, today,
            username, idempotency_key, role, client, key_hash,
        )  # fmt: skip
        if outcome == "booked":
            return Response(answer, status_code=201, media_type="application/json")
        if outcome == "replay" and idempotency_key:
            first = await lean.replay(user_id, idempotency_key)
            if first is None or first[0] != key_hash:
                raise _refusal("reused")
            return Response(first[2], status_code=first[1], media_type="application/json")
        if outcome == "full":
            lean.full[(body.session_id, pool)] = time.monotonic() + SOLD_OUT_TTL
        raise _refusal(outcome)

    app.router.routes.insert(0, APIRoute(PATH, book, methods=["POST"], status_code=201))
    return SoldOutShortCircuit(app, lean)


class SoldOutShortCircuit:
    """Answer a booking for a (session, pool) found full less than SOLD_OUT_TTL ago before the
    framework runs: cached token, body read with json, problem+json prerendered per locale with
    the headers WebMiddleware adds. Everything else passes through untouched."""

    def __init__(self, app: ASGIApp, lean: LeanBooking) -> None:
        self.app, self.lean = app, lean

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        answer = self._refusal(scope, raw)
        if answer is None:
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}

            await self.app(scope, replay, send)
            return
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(answer)).encode()),
            (b"cache-control", b"no-store"),
            *SECURITY_HEADERS,
        ]
        await send({"type": "http.response.start", "status": 409, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    def _refusal(self, scope: Scope, raw: bytes) -> bytes | None:
        authorization, language = b"", None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"accept-language":
                language = value.decode("latin-1")
        if authorization[:7].lower() != b"bearer ":
            return None
        hit = self.lean.tokens.get(authorization[7:].strip().decode("latin-1"))
        if hit is None or hit[0] <= time.monotonic():
            return None
        try:
            session_id = int(json.loads(raw)["session_id"])
            pool, _ = pool_of(hit[1][3])
        except (ValueError, KeyError, TypeError, Forbidden):
            return None
        if not self.lean.known_full(session_id, pool):
            return None
        return self.lean.problem(negotiate(language, None))
