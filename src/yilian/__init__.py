"""Yilian (医联): the shared platform of a medical consortium."""

__version__ = "0.1.0"
