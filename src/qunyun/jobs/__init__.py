"""Background jobs: work the console starts and a worker finishes (imports for now).

A job is a row in ``jobs``. The web process enqueues it in the request's
transaction; a worker — a thread of ``qunyun serve`` or a separate ``qunyun
worker`` process — claims it atomically (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the single writer lock on SQLite), reports progress into the row and
records the result there. A job left running by a dead worker is put back in the
queue; imports are idempotent, so running one twice adds nothing.
"""
