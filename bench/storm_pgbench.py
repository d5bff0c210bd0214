"""The database's own limit: the booking transaction without the app, run by pgbench.

The same statements the service sends (DESIGN §3): the conditional UPDATE ... WHERE id =
(SELECT ... FOR UPDATE SKIP LOCKED) RETURNING on the actor's pool, then, when a slot was
taken, the INSERT of the appointment and of its audit row, in one transaction; prepared
statements (asyncpg prepares too), the same session mix and fresh residents as the app's load.
"""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TAKE = (
    "WITH taken AS (UPDATE slots SET status = 'booked' WHERE id = (SELECT id FROM slots"
    " WHERE session_id = :s AND pool = '{pool}' AND status = 'free' ORDER BY number LIMIT 1"
    " FOR UPDATE SKIP LOCKED) AND status = 'free' RETURNING id, number, starts_at, ends_at)"
    " SELECT coalesce((SELECT id FROM taken), 0) AS slot_id,"
    " coalesce((SELECT number FROM taken), 0) AS slot_no \\gset"
)
APPOINTMENT = (
    "INSERT INTO appointments (session_id, slot_id, resident_id, pool, booked_by,"
    " booked_via_institution_id, booked_at, status) VALUES (:s, :slot_id, :r, '{pool}', {user_id},"
    " {institution_id}, now(), 'booked') RETURNING id \\gset appt_"
)
AUDIT = (
    "INSERT INTO audit_events (at, user_id, username, role, institution_id, action, resident_id,"
    " outcome, client_addr, detail) VALUES (now(), {user_id}, '{username}', '{role}', {institution_id},"
    " 'appointment.create', :r, 'allowed', '127.0.0.1',"
    " json_build_object('session_id', :s::int, 'slot', :slot_no::int, 'pool', '{pool}'))"
    " RETURNING id \\gset audit_"
)


@dataclass(frozen=True)
class Booker:
    username: str
    role: str
    pool: str
    user_id: int
    institution_id: int

    def branch(self) -> list[str]:
        values = {
            "pool": self.pool,
            "user_id": self.user_id,
            "institution_id": self.institution_id,
            "username": self.username,
            "role": self.role,
        }
        return [
            TAKE.format(**values),
            "\\if :slot_id > 0",
            APPOINTMENT.format(**values),
            AUDIT.format(**values),
            "\\endif",
        ]


def script(*, registration: Booker, family_doctor: Booker) -> str:
    """One booking per transaction; variables: n (per client), nclients, res_lo, the session ranges
    and the per-mille shares of popular sessions and family-doctor bookings."""
    lines = [
        "\\set n :n + 1",
        "\\set r :res_lo + (:n - 1) * :nclients + :client_id",
        "\\set pick random(1, 1000)",
        "\\if :pick <= :hot_permille",
        "\\set s random(:hot_lo, :hot_hi)",
        "\\else",
        "\\set s random(:reg_lo, :reg_hi)",
        "\\endif",
        "\\set fd random(1, 1000)",
        "BEGIN;",
        "\\if :fd <= :fd_permille",
        *family_doctor.branch(),
        "\\else",
        *registration.branch(),
        "\\endif",
        "COMMIT;",
    ]
    return "\n".join(lines) + "\n"


def run(
    *,
    pgbench: str,
    host: str,
    port: int,
    user: str,
    dbname: str,
    script_path: Path,
    workdir: Path,
    name: str,
    clients: int,
    transactions: int,
    variables: dict[str, int],
    timeout: float,
) -> dict[str, Any]:
    """Run `transactions` (rounded up to a whole number per client); its rate and latencies."""
    per_client = max(1, math.ceil(transactions / clients))
    prefix = workdir / f"pgbench-{name}-{clients}"
    command = [
        pgbench,
        "-h",
        host,
        "-p",
        str(port),
        "-U",
        user,
        "-n",
        "-M",
        "prepared",
        "-c",
        str(clients),
        "-j",
        str(min(clients, 2)),
        "-t",
        str(per_client),
        "-l",
        f"--log-prefix={prefix}",
        "-f",
        str(script_path),
        "-D",
        "n=0",
        "-D",
        f"nclients={clients}",
    ]
    for key, value in variables.items():
        command += ["-D", f"{key}={value}"]
    command.append(dbname)
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout).group(1))  # type: ignore[union-attr]
    processed = int(re.search(r"number of transactions actually processed: (\d+)", done.stdout).group(1))  # type: ignore[union-attr]
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    latencies = []
    for log in workdir.glob(f"{prefix.name}.*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]) / 1_000_000)
        log.unlink()
    latencies.sort()

    def pct(q: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, round(q * (len(latencies) - 1)))] * 1000, 2)

    return {
        "transactions": processed,
        "failed": int(failed.group(1)) if failed else 0,
        "elapsed_s": round(processed / tps, 3) if tps else None,
        "tps": round(tps, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }
