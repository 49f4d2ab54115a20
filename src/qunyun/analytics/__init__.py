"""Derived views of the event log: statistics, metrics, reports."""
