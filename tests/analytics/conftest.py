"""One jieba load per test session: it takes about a second."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qunyun.analytics import keywords


@pytest.fixture(scope="session")
def tokenizer() -> keywords.Tokenizer:
    """The shared tokenizer, built-in stopwords only, jieba already loaded."""
    tok = keywords.Tokenizer()
    tok.tokenize("预热")
    return tok


@pytest.fixture
def default_is_shared(tokenizer: keywords.Tokenizer) -> Iterator[keywords.Tokenizer]:
    """Module-level functions use the session tokenizer instead of loading another."""
    saved = keywords._default
    keywords._default = tokenizer
    yield tokenizer
    keywords._default = saved
