"""REST API v1: every route the dashboard uses, for scripts and other tools."""
