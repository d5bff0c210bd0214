"""Tests mirror src/yilian/ (DESIGN §7); fixtures for the databases live in conftest.py."""
