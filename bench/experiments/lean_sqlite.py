"""EXPERIMENT (not product code): SQLite's single writer as a thread that batches bookings.

One thread owns the writer connection. Requests queue their booking; the thread takes
everything queued, runs it in ONE `BEGIN IMMEDIATE ... COMMIT` (one SAVEPOINT per booking, so
that a refused one leaves the others), and resolves each request's future. The database
still decides every booking (conditional UPDATE ... RETURNING, unique indexes).
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

FMT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass
class Job:
    kind: str  # "book" | "actor" | "replay"
    args: tuple[Any, ...]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def iso(text: str) -> str:
    return datetime.strptime(text, FMT).replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


class Writer:
    def __init__(self, path: str, batch: int = 64) -> None:
        self.path, self.batch = path, batch
        self.jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def submit(self, kind: str, *args: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.jobs.put(Job(kind, args, future, loop))
        return future

    def _run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=10000"):
            db.execute(f"PRAGMA {pragma}")
        while True:
            jobs = [self.jobs.get()]
            while len(jobs) < self.batch:
                try:
                    jobs.append(self.jobs.get_nowait())
                except queue.Empty:
                    break
            answers: list[tuple[Job, Any, Exception | None]] = []
            db.execute("BEGIN IMMEDIATE")
            for job in jobs:
                db.execute("SAVEPOINT b")
                try:
                    answers.append((job, getattr(self, job.kind)(db, *job.args), None))
                    db.execute("RELEASE b")
                except Exception as refused:  # handed to the request that queued it
                    db.execute("ROLLBACK TO b")
                    db.execute("RELEASE b")
                    answers.append((job, None, refused))
            db.execute("COMMIT")
            for job, answer, failure in answers:
                job.loop.call_soon_threadsafe(_resolve, job.future, answer, failure)

    @staticmethod
    def actor(
        db: sqlite3.Connection, digest: str, now: datetime
    ) -> tuple[int, str, int | None, list[str]] | None:
        rows = db.execute(
            "SELECT u.id, u.username, u.institution_id, r.role FROM users u"
            " JOIN api_tokens t ON t.user_id = u.id JOIN user_roles r ON r.user_id = u.id"
            " WHERE t.token_hash = ? AND t.revoked_at IS NULL"
            " AND t.expires_at > ? AND u.is_active",
            (digest, now.astimezone(UTC).replace(tzinfo=None).strftime(FMT)),
        ).fetchall()
        if not rows:
            return None
        return (rows[0][0], rows[0][1], rows[0][2], [r[3] for r in rows])

    @staticmethod
    def replay(db: sqlite3.Connection, user_id: int, key: str) -> tuple[str, int, str] | None:
        row = db.execute(
            "SELECT request_hash, status_code, body FROM idempotency_records WHERE user_id = ? AND key = ?",
            (user_id, key),
        ).fetchone()
        return (str(row[0]), int(row[1]), str(row[2])) if row is not None else None

    @staticmethod
    def book(
        db: sqlite3.Connection,
        session_id: int,
        resident_id: int,
        pool: str,
        user_id: int,
        institution_id: int | None,
        now: datetime,
        today: date,
        username: str,
        key: str | None,
        role: str,
        addr: str | None,
        fingerprint: str | None,
    ) -> tuple[str, str | None]:
        """(outcome, body): outcome in booked | replay | not_found | closed | not_signed | full."""
        stamp = now.astimezone(UTC).replace(tzinfo=None).strftime(FMT)
        if (
            key
            and db.execute(
                "SELECT 1 FROM idempotency_records WHERE user_id = ? AND key = ?", (user_id, key)
            ).fetchone()
        ):
            return "replay", None
        clinic = db.execute(
            "SELECT c.status, c.starts_at, c.community_opens_at, c.public_opens_at, c.institution_id,"
            " c.place, p.name FROM clinic_sessions c JOIN practitioners p ON p.id = c.practitioner_id"
            " WHERE c.id = ?",
            (session_id,),
        ).fetchone()
        if clinic is None:
            return "not_found", None
        status, starts, community_opens, public_opens, clinic_institution, place, doctor = clinic
        opens = community_opens if pool == "community" else public_opens
        if (
            status != "open"
            or stamp >= starts
            or stamp < opens
            or (pool == "public" and clinic_institution != institution_id)
        ):
            return "closed", None
        if (
            pool == "community"
            and not db.execute(
                "SELECT 1 FROM contracts WHERE resident_id = ? AND institution_id = ? AND status = 'active'"
                " AND expires_on >= ?",
                (resident_id, institution_id, today.isoformat()),
            ).fetchone()
        ):
            return "not_signed", None
        slot = db.execute(
            "UPDATE slots SET status = 'booked' WHERE id = (SELECT id FROM slots WHERE session_id = ?"
            " AND pool = ? AND status = 'free' ORDER BY number LIMIT 1) AND status = 'free'"
            " RETURNING id, number, starts_at, ends_at",
            (session_id, pool),
        ).fetchone()
        if slot is None:
            return "full", None
        (appointment_id,) = db.execute(
            "INSERT INTO appointments (session_id, slot_id, resident_id, pool, booked_by,"
            " booked_via_institution_id, booked_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'booked')"
            " RETURNING id",
            (session_id, slot[0], resident_id, pool, user_id, institution_id, stamp),
        ).fetchone()
        db.execute(
            "INSERT INTO audit_events (at, user_id, username, role, institution_id, action, resident_id,"
            " outcome, client_addr, detail) VALUES (?, ?, ?, ?, ?, 'appointment.create', ?, 'allowed', ?, ?)",
            (
                stamp,
                user_id,
                username,
                role,
                institution_id,
                resident_id,
                addr,
                json.dumps({"session_id": session_id, "slot": slot[1], "pool": pool}),
            ),
        )
        body = json.dumps(
            {
                "id": appointment_id,
                "session_id": session_id,
                "resident_id": resident_id,
                "slot_number": slot[1],
                "pool": pool,
                "starts_at": iso(slot[2]),
                "ends_at": iso(slot[3]),
                "status": "booked",
                "place": place,
                "practitioner_name": doctor,
            },
            ensure_ascii=False,
        )
        if key:
            db.execute(
                "INSERT INTO idempotency_records (user_id, key, request_hash, created_at, status_code, body)"
                " VALUES (?, ?, ?, ?, 201, ?)",
                (user_id, key, fingerprint, stamp, body),
            )
        return "booked", body


def _resolve(future: asyncio.Future[Any], answer: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(answer)
