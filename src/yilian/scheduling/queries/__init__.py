"""Reads, as view objects every door renders: schedule.py (sessions, slots, appointments, the
booking pages' views) and clinic.py (the clinic office's templates, policies, overview and
attendance sheet) and office.py (its registers: templates with their sessions, closures and what
a closure would stop)."""
