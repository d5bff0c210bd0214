"""Specialty case channels (专病群): channels, members, threads, posts, acknowledgements."""
