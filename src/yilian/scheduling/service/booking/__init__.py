"""The booking: the database takes a slot. shared.py is what a booking is on either engine (the
request, its named values, the rows, the refusal rule); postgresql.py and sqlite.py are its one
statement and its few statements; sold_out.py remembers pools found full.

`run_in` books inside the caller's unit of work (pages, referrals); the API's hot path runs the
same statements on their own (scheduling.api.desk). The database decides; `shared.refusal`
only explains a refusal.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.scheduling.service.booking import postgresql, sqlite
from yilian.scheduling.service.booking.shared import BookingRequest, Duplicate, Outcome, unknown_resident


async def run_in(session: AsyncSession, request: BookingRequest) -> Outcome:
    """The booking inside the caller's unit of work (its rollback undoes the booking too)."""
    connection = await session.connection()
    try:
        if connection.dialect.name == "postgresql":
            result = await connection.exec_driver_sql(postgresql.PG_BOOK, postgresql.arguments(request))
            return postgresql.outcome(result.one())
        return await connection.run_sync(lambda sync: sqlite.book(sync.exec_driver_sql, request))
    except IntegrityError as error:
        if postgresql.foreign_key(error):
            raise unknown_resident(request) from None
        raise Duplicate(key_taken=postgresql.key_taken(error)) from None
