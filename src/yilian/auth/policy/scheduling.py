"""Scheduling: clinic sessions, kept slots and bookings."""

from __future__ import annotations
