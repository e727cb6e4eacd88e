"""Watchbill: the open-source technical-operations platform."""

__version__ = "0.1.0"
