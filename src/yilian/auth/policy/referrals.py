"""Referrals: who may refer, answer and follow up."""

from __future__ import annotations
