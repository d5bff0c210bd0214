"""Logging that never carries a full resident ID number or phone number."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from yilian.core.masking import mask_text

_installed = False
_plain = logging.Formatter()


class MaskingFormatter(logging.Formatter):
    """Masks the whole formatted line, tracebacks included (a database error can quote a value)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(super().format(record))


def install_record_masking() -> None:
    """Mask every record's message where it is made, so that any handler sees it masked."""
    global _installed  # noqa: PLW0603 — one process-wide record factory
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.args or "1" in str(record.msg):
            # A malformed record is left to the formatter, which masks the line again.
            with contextlib.suppress(TypeError, ValueError):
                record.msg, record.args = mask_text(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text: a traceback quoting a value is masked for every handler.
            record.exc_text = mask_text(_plain.formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def configure(level: str) -> None:
    install_record_masking()
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
