"""The console: a FastAPI app serving the REST API (/api/v1) and the dashboard pages.

Both are thin faces over the same service functions the CLI uses (accounts,
jobs, analytics, crm): routes parse, call and render, nothing more.
"""
