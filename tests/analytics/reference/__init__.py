"""The report's first implementation (commit e03f2f3), kept as a test oracle.

It loaded every membership and member-day of a scope into Python and computed each
metric by walking them: slow on big scopes, but a direct transcription of
docs/metrics.md. The production code now asks the store for aggregates
(analytics/data.py); tests/analytics/test_agreement.py holds the two equal. Only
imports were changed here; do not "fix" this code, it is the yardstick.
"""
