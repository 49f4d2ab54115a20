"""Helpers shipped for tests (ours and plugin authors'): event factories, fixtures."""
