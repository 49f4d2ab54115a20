"""Console accounts: users and roles, sessions, API tokens, login limits, the audit log.

The web console and the CLI both go through these functions, so a user made with
``qunyun user create`` and one made in the settings page are the same thing, and
both leave the same line in the audit log.
"""
