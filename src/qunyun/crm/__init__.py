"""People: one person across groups and platforms, their accounts, memberships and history."""
