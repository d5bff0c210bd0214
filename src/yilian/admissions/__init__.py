"""Inpatient admission: electronic requests, the bounded community priority (合理插队), wards and beds."""
