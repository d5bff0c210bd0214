"""Writes, each public call one unit of work with its audit rows: appointments.py (book, cancel,
停诊), booking/ (the statements that take a slot, by engine), office.py (kept shares),
attendance.py (check-in, no-show), generation.py (sessions from the templates: the job's and the
office's), templates.py and closures.py (the clinic office's registers: templates, 停诊 by
dates). Other packages book through the names below."""

from yilian.scheduling.service.appointments import (
    Booked,
    book,
    book_kept_for_referral,
    book_patient,
    cancel,
    stop_session,
)
from yilian.scheduling.service.attendance import attend_by_referral

__all__ = [
    "Booked",
    "attend_by_referral",
    "book",
    "book_kept_for_referral",
    "book_patient",
    "cancel",
    "stop_session",
]
