"""What the notices API gives."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class NoticePageOut(BaseModel):
    items: list[NoticeOut]
    total: int
    unread: int
