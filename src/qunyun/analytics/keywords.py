"""Chat messages in Chinese and English turned into the terms worth counting.

Operators read topic lists and word clouds to learn what a group talks about,
so a term has to be something a person would call a topic: "asyncio", "配速",
"基金定投" — not "哈哈", "ok", a URL, an @mention, a [旺柴] sticker or "打卡".
:func:`tokenize` cleans the text, segments Chinese with jieba (English runs
come out whole), lower-cases, folds English plurals and drops what is not a
topic: numbers, punctuation, emoji, single Chinese characters, one-letter
Latin tokens and stopwords.

jieba takes about a second to load its dictionary, so it is loaded on the
first call and only once per :class:`Tokenizer`; the module-level functions
share one default tokenizer. The default reads two environment variables when
it is created (see docs/keywords.md):

* ``QUNYUN_STOPWORDS`` — extra stopword files, separated by ``os.pathsep``;
* ``QUNYUN_USER_DICT`` — jieba user dictionaries, separated by ``os.pathsep``.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from qunyun.analytics.lemmas import singular
from qunyun.analytics.terms import TermCounter, Trend, count_by_period, top_terms, trends
from qunyun.errors import ConfigError

__all__ = [
    "TermCounter",
    "Tokenizer",
    "Trend",
    "add_stopwords",
    "add_word",
    "builtin_stopwords",
    "count_by_period",
    "default_tokenizer",
    "load_user_dict",
    "read_stopwords",
    "tokenize",
    "top_terms",
    "trends",
]

STOPWORDS_ENV = "QUNYUN_STOPWORDS"
USER_DICT_ENV = "QUNYUN_USER_DICT"

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# What is cut out before segmentation, replaced by a space so that the words on
# either side stay apart. Runs on NFKC text, so full-width forms are ASCII here.
_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_NOISE = re.compile(
    "|".join(
        [
            rf"(?:https?://|www\.){_URL_CHARS}+",  # URLs
            r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",  # e-mail addresses
            rf"\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|cn|net|org|io|dev|app|me|cc|co|ai)"
            rf"\b(?:/{_URL_CHARS}*)?",  # bare domains
            r"@[^\s@]+",  # @mentions, up to the next space (WeChat puts U+2005 there)
            r"\[[^\[\]\s]{1,12}\]",  # bracket emoticons and placeholders: [旺柴] [图片]
            r"[A-Za-z]+['’](?:t|re|ve|ll|d|m)\b",  # don't, I'm, you're: function words
            r"['’]s\b",  # possessive: python's -> python
            r"\.(?:pdf|docx?|xlsx?|pptx?|txt|csv|zip|rar|7z|mp[34]|jpe?g|png|gif|apk|exe)\b",
        ]
    )
)
_TERM = re.compile(rf"[{_HAN}a-z0-9+#._-]+")
_HAS_HAN = re.compile(rf"[{_HAN}]")
_HAS_LETTER = re.compile(r"[a-z]")
_EDGE = "._-"
_TOKEN_CACHE_LIMIT = 200_000
_UNSEEN = ""  # a cache miss; no real term is empty


def read_stopwords(path: str | Path) -> frozenset[str]:
    """The stopwords in a file: terms separated by whitespace, ``#`` comments."""
    return _parse_stopwords(Path(path).read_text(encoding="utf-8-sig"))


def builtin_stopwords() -> frozenset[str]:
    """The shipped Chinese and English stopwords (``stopwords/zh.txt``, ``en.txt``)."""
    pkg = resources.files("qunyun.analytics") / "stopwords"
    words: set[str] = set()
    for name in ("zh.txt", "en.txt"):
        words |= _parse_stopwords((pkg / name).read_text(encoding="utf-8"))
    return frozenset(words)


def _parse_stopwords(text: str) -> frozenset[str]:
    words: set[str] = set()
    for line in text.splitlines():
        words.update(w.lower() for w in line.split("#", 1)[0].split())
    return frozenset(words)


class Tokenizer:
    """Turns one message into its terms; holds jieba and the stopword set.

    Decisions about a raw token (keep it? as what?) are cached, since chat
    repeats a small vocabulary; adding words or stopwords clears the cache.
    """

    def __init__(
        self,
        *,
        stopwords: Iterable[str] | None = None,
        stopword_files: Sequence[str | Path] = (),
        user_dicts: Sequence[str | Path] = (),
        hmm: bool = True,
        lemmatize: bool = True,
        cache_size: int = 200_000,
    ) -> None:
        """``stopwords`` replaces the built-in list; ``stopword_files`` add to it.

        ``hmm`` lets jieba guess words missing from its dictionary (names, new
        slang) at some cost in speed; ``lemmatize`` folds English plurals.
        ``cache_size`` bounds the phrase cache (0 turns it off, for benchmarks).
        """
        base = builtin_stopwords() if stopwords is None else frozenset(stopwords)
        self._stopwords = set(base)
        for path in stopword_files:
            self._stopwords |= read_stopwords(path)
        self._user_dicts = [Path(p) for p in user_dicts]
        self._hmm = hmm
        self._lemmatize = lemmatize
        self._cache_size = cache_size
        self._jieba: Any = None
        self._lock = threading.Lock()
        self._cache: dict[str, str | None] = {}
        self._blocks: dict[str, tuple[str, ...]] = {}
        self._han_block: re.Pattern[str] = re.compile(r"(?!)")

    @property
    def stopwords(self) -> frozenset[str]:
        return frozenset(self._stopwords)

    def tokenize(self, text: str) -> list[str]:
        """The terms of ``text`` in order of appearance, repeats kept."""
        if not text:
            return []
        clean = _NOISE.sub(" ", unicodedata.normalize("NFKC", text))
        seg = self._segmenter()
        blocks = self._blocks
        if len(blocks) >= self._cache_size:
            blocks.clear()
        out: list[str] = []
        for block in self._han_block.findall(clean):
            terms = blocks.get(block)
            if terms is None:
                terms = self._cut(seg, block)
                if self._cache_size:
                    blocks[block] = terms
            out.extend(terms)
        return out

    def _cut(self, seg: Any, block: str) -> tuple[str, ...]:
        """The terms of one block, as jieba would segment it within any text.

        jieba segments each run of word characters on its own, so a run seen
        before needs no new segmentation: chat repeats whole phrases ("收到",
        "明天几点集合") far more than prose does, and this cache is most of
        the tokenizer's speed on real group chat.
        """
        cache = self._cache
        if len(cache) > _TOKEN_CACHE_LIMIT:
            cache.clear()
        out: list[str] = []
        for raw in seg.cut(block, self._hmm):
            term = cache.get(raw, _UNSEEN)
            if term is _UNSEEN:
                term = cache[raw] = self._term(raw)
            if term is not None:
                out.append(term)
        return tuple(out)

    def _term(self, raw: str) -> str | None:
        """What a raw jieba token counts as, or None if it is not a term."""
        tok = raw.strip().lower().strip(_EDGE)
        if not _TERM.fullmatch(tok) or tok in self._stopwords:
            return None
        if _HAS_HAN.search(tok):
            return tok if len(tok) >= 2 else None
        if len(tok) < 2 or not _HAS_LETTER.search(tok):
            return None
        if self._lemmatize:
            tok = singular(tok)
            if tok in self._stopwords:
                return None
        return tok

    def add_word(self, word: str, freq: int | None = None) -> None:
        """Keep ``word`` in one piece when segmenting (a product, a name, slang).

        A word with Latin letters is added as written and lower-cased, since
        jieba matches case-sensitively. A stopword stays a stopword.
        """
        seg = self._segmenter()
        for form in dict.fromkeys([word, word.lower()]):
            seg.add_word(form, freq, None)
        self._clear_caches()

    def load_user_dict(self, path: str | Path) -> None:
        """Add the words of a jieba user dictionary: ``word [freq] [tag]`` per line."""
        _load_user_dict(self._segmenter(), Path(path))
        self._clear_caches()

    def add_stopwords(self, words: Iterable[str]) -> None:
        """Never count these terms (matched lower-cased, after plural folding)."""
        self._stopwords.update(w.lower() for w in words)
        self._clear_caches()

    def _clear_caches(self) -> None:
        self._cache.clear()
        self._blocks.clear()

    def _segmenter(self) -> Any:
        """The segmenter, with its dictionary loaded on first use."""
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    seg = _new_segmenter()
                    for path in self._user_dicts:
                        _load_user_dict(seg, path)
                    self._han_block = HAN_BLOCK
                    self._jieba = seg
        return self._jieba


_shared_claimed = False
_shared_lock = threading.Lock()


def _new_segmenter() -> Any:
    """A jieba segmenter of its own for one tokenizer.

    Importing rjieba builds a default segmenter (0.16 s of loading its dictionary)
    that nothing else in qunyun uses: the first tokenizer takes that one over
    instead of loading the dictionary a second time; later ones get their own.
    """
    global _shared_claimed
    import rjieba

    with _shared_lock:
        shared = getattr(rjieba, "_DEFAULT_JIEBA", None)
        if not _shared_claimed and isinstance(shared, rjieba.Jieba):
            _shared_claimed = True
            return shared
    return rjieba.Jieba()


#: runs of text jieba segments one at a time (jieba's own ``re_han_default``)
HAN_BLOCK = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+)")


def _load_user_dict(seg: Any, path: Path) -> None:
    """Add a jieba user dictionary: ``word [freq] [tag]`` per line, UTF-8.

    jieba's own format, so dictionaries made for jieba work unchanged; a line that
    does not fit is an error naming the file and line.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the user dictionary {path}: {exc}", zh=f"无法读取用户词典 {path}：{exc}"
        ) from exc
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.strip().split()
        if not parts:
            continue
        word, rest = parts[0], parts[1:]
        freq: int | None = None
        if rest and rest[0].isdigit():
            freq, rest = int(rest[0]), rest[1:]
        if len(rest) > 1:
            raise ConfigError(
                f"{path}, line {n}: expected 'word [frequency] [tag]', got {line.strip()!r}",
                zh=f"{path} 第 {n} 行：应为“词 [词频] [词性]”，实为 {line.strip()!r}",
            )
        seg.add_word(word, freq, rest[0] if rest else None)


_default: Tokenizer | None = None
_default_lock = threading.Lock()


def default_tokenizer() -> Tokenizer:
    """The shared tokenizer, created once with the files named by the environment."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Tokenizer(
                    stopword_files=_env_paths(STOPWORDS_ENV),
                    user_dicts=_env_paths(USER_DICT_ENV),
                )
    return _default


def _env_paths(name: str) -> list[Path]:
    return [Path(p) for p in os.environ.get(name, "").split(os.pathsep) if p.strip()]


def tokenize(text: str) -> list[str]:
    """The terms of one message, with the default tokenizer.

    >>> tokenize("今天学Python的asyncio好难 😂 [捂脸] https://docs.python.org")
    ['python', 'asyncio', '好难']
    """
    return default_tokenizer().tokenize(text)


def add_word(word: str, freq: int | None = None) -> None:
    """Keep ``word`` in one piece in the default tokenizer."""
    default_tokenizer().add_word(word, freq)


def load_user_dict(path: str | Path) -> None:
    """Load a jieba user dictionary into the default tokenizer."""
    default_tokenizer().load_user_dict(path)


def add_stopwords(words: Iterable[str]) -> None:
    """Add stopwords to the default tokenizer."""
    default_tokenizer().add_stopwords(words)
