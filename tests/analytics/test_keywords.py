"""Tokenization of Chinese, English and mixed chat text; stopwords; user words."""

from __future__ import annotations

from pathlib import Path

import pytest

from qunyun.analytics import keywords
from qunyun.analytics.keywords import Tokenizer, builtin_stopwords, read_stopwords
from qunyun.analytics.lemmas import singular
from qunyun.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        # Chinese: jieba words; single characters (去, 拍) and 一起 (stopword) dropped
        ("周末一起去爬山，顺便拍日落", ["周末", "爬山", "顺便", "日落"]),
        # English: lower-cased, function words dropped, plurals folded
        (
            "Anyone tried FastAPI with async SQLAlchemy? The docs are great lol",
            ["fastapi", "async", "sqlalchemy", "doc"],
        ),
        # mixed: Latin runs come out whole; 今天 and 的 are not topics
        ("今天学Python的asyncio好难", ["python", "asyncio", "好难"]),
        ("C++和Rust哪个好？", ["c++", "rust"]),
        ("#python #asyncio", ["python", "asyncio"]),
        # full-width letters, ideographic space and full-width digits/punctuation
        ("ＦａｓｔＡＰＩ\u3000真香！！！１２３４５", ["fastapi", "真香"]),
    ],
)
def test_tokenize_languages(tokenizer: Tokenizer, text: str, terms: list[str]) -> None:
    assert tokenizer.tokenize(text) == terms


def test_noise_removed(tokenizer: Tokenizer) -> None:
    url = "https://github.com/foo/bar?x=1"
    text = f"我用ChatGPT写了个爬虫😂😂 {url} 大家看看 @小明 [旺柴][捂脸][图片]"
    assert tokenizer.tokenize(text) == ["chatgpt", "爬虫"]


def test_mentions_emails_domains_and_file_extensions(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokenize("@李四\u2005明天一起去爬山吗？") == ["爬山"]
    text = "email me at bob@example.com or see www.example.org/x and qunyun.dev"
    assert tokenizer.tokenize(text) == ["email"]
    assert tokenizer.tokenize("报告.pdf") == ["报告"]


def test_contractions_possessives_numbers_and_short_tokens(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokenize("I don't think it's Python's fault") == ["python", "fault"]
    assert tokenizer.tokenize("x 3 42 3.14 1,000 50% a1 ab") == ["a1", "ab"]


def test_chat_filler_and_checkins_are_stopwords(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokenize("哈哈哈哈 嗯嗯 好的 收到 ok OK lol LOL 打卡 签到 谢谢") == []
    assert tokenizer.tokenize("") == []


def test_repeats_are_kept_in_order(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokenize("bug bug bugs 爬虫爬虫") == ["bug", "bug", "bug", "爬虫", "爬虫"]


def test_user_dictionary_keeps_words_whole(tokenizer: Tokenizer, tmp_path: Path) -> None:
    assert tokenizer.tokenize("我在学习强化学习") == ["学习", "强化", "学习"]
    assert tokenizer.tokenize("基金定投真的能赚钱吗？") == ["基金", "赚钱"]
    user = tmp_path / "user.txt"
    user.write_text("强化学习 20 n\n基金定投\n", encoding="utf-8")
    tokenizer.load_user_dict(user)
    assert tokenizer.tokenize("我在学习强化学习") == ["学习", "强化学习"]
    assert tokenizer.tokenize("基金定投真的能赚钱吗？") == ["基金定投", "赚钱"]


def test_user_dictionary_with_a_bom_and_a_bad_line(tokenizer: Tokenizer, tmp_path: Path) -> None:
    user = tmp_path / "user.txt"
    user.write_text("\ufeff社群运营 30\n\n拉新 裂变 活动 n\n", encoding="utf-8")
    bad = r"user\.txt, line 3: expected 'word \[frequency\] \[tag\]'"
    with pytest.raises(ConfigError, match=bad):
        tokenizer.load_user_dict(user)
    # the lines before the bad one were read, BOM and all
    assert "社群运营" in tokenizer.tokenize("我们聊社群运营")
    with pytest.raises(ConfigError, match="cannot read the user dictionary"):
        tokenizer.load_user_dict(tmp_path / "missing.txt")


def test_add_word_matches_any_case(default_is_shared: Tokenizer) -> None:
    assert keywords.tokenize("今天纳指ETF大涨") == ["纳指", "etf", "大涨"]
    keywords.add_word("纳指ETF")
    assert keywords.tokenize("今天纳指ETF大涨") == ["纳指etf", "大涨"]
    assert keywords.tokenize("纳指etf") == ["纳指etf"]


def test_add_stopwords(default_is_shared: Tokenizer) -> None:
    assert keywords.tokenize("一起看流星雨 Perseids") == ["流星雨", "perseid"]
    keywords.add_stopwords(["流星雨", "Perseid"])
    assert keywords.tokenize("一起看流星雨 Perseids") == []


def test_builtin_stopword_lists() -> None:
    words = builtin_stopwords()
    assert {"哈哈", "嗯嗯", "好的", "打卡", "签到", "ok", "lol", "the"} <= words
    assert 300 < len(words) < 3000
    assert all(w == w.lower() and "#" not in w for w in words)


def test_extra_stopwords_from_file_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = tmp_path / "extra.txt"
    extra.write_text("# our group's boilerplate\n接龙报名 KPI\n", encoding="utf-8")
    assert read_stopwords(extra) == {"接龙报名", "kpi"}
    assert {"接龙报名", "kpi"} <= Tokenizer(stopword_files=[extra]).stopwords
    assert Tokenizer(stopwords=["only"]).stopwords == {"only"}
    monkeypatch.setattr(keywords, "_default", None)
    monkeypatch.setenv(keywords.STOPWORDS_ENV, str(extra))
    assert "接龙报名" in keywords.default_tokenizer().stopwords  # jieba not loaded for this


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("bugs", "bug"),
        ("libraries", "library"),
        ("classes", "class"),
        ("boxes", "box"),
        ("watches", "watch"),
        ("apis", "api"),
        ("movies", "movie"),
        ("status", "status"),
        ("pandas", "pandas"),
        ("news", "news"),
        ("gas", "gas"),
        ("python3", "python3"),
    ],
)
def test_singular(word: str, expected: str) -> None:
    assert singular(word) == expected
