"""Names and ids for demo identities, groups, bots, spammers and channel codes.

Ids follow each platform's real shape (``wxid_…`` and ``…@chatroom`` on WeChat,
``user<digits>`` and ``-100…`` chat ids as in Telegram exports, snowflakes on
Discord) so that demo data looks like imported data in every view.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from qunyun.demo.texts import LOWER, wechat_id, wordlist
from qunyun.events import IdentityRef

PLATFORMS = ("wechat", "telegram", "discord")
#: Share of groups per platform, and of Chinese-language groups per platform.
PLATFORM_SHARE = (0.55, 0.30, 0.15)
ZH_SHARE = {"wechat": 0.95, "telegram": 0.45, "discord": 0.2}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯"
    "邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁沈"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
    "玉兰萍红鹏辉宇浩然子轩思雨欣怡晨阳佳琪一诺雪婷俊"
)
ZH_NICKS = wordlist(
    "快乐的小鱼 | 追风少年 | 一只猫 | 山有木兮 | 今天也要加油 | 南风知我意 | 小太阳 | "
    "咸鱼翻身 | 橘子汽水 | 知足常乐 | 奔跑的蜗牛 | 风轻云淡 | 星河 | 岁月静好 | 柠檬不酸"
)
EN_FIRST = wordlist(
    "Alex | Sam | Chris | Jordan | Taylor | Emma | Olivia | Liam | Noah | Mia | Lucas | "
    "Sophie | Ethan | Grace | Kevin | Lily | Jason | Cindy | Leo | Nina"
)
EN_LAST = wordlist(
    "Smith | Chen | Wang | Lee | Garcia | Miller | Nguyen | Kim | Brown | Patel | Müller | "
    "Rossi | Tanaka | Silva | Johnson"
)
HANDLE_WORDS = wordlist(
    "neo | pixel | dragon | shadow | cosmic | lazy | coffee | panda | ghost | ninja | sunny | "
    "moon | byte | tofu | mochi"
)
NAME_DECOR = ("", "", "", "🌸", "🍀", "☀️", "✨", "🐱")

CHANNELS_ZH = wordlist(
    "poster-A | poster-B | wechat-article-1118 | wechat-article-0302 | bilibili-video | "
    "xiaohongshu-note | douyin-live | offline-event | kol-zhang | kol-lily | website-footer | "
    "wecom-welcome"
)
CHANNELS_EN = wordlist(
    "twitter-thread | youtube-video | reddit-post | meetup-sf | newsletter-0412 | "
    "website-footer | kol-alex | offline-event | poster-A | producthunt"
)

BOTS: dict[str, tuple[tuple[str, str], ...]] = {
    "wechat": (("wxid_qunguanjia01", "群管家"), ("wxid_dakaxiaozhushou", "打卡小助手")),
    "telegram": (
        ("user5071059420", "Combot"),
        ("user609517172", "Group Help"),
        ("user5010920", "Rose"),
    ),
    "discord": (
        ("155149108183695360", "MEE6"),
        ("235148962103951360", "Carl-bot"),
        ("155149108183695361", "Dyno"),
    ),
}
SPAM_NAMES_ZH = ("兼职招聘小助手", "理财顾问-王", "福利官", "代购小美", "客服小李", "红包群主")
SPAM_NAMES_EN = ("Crypto Support", "Investment Advisor", "Admin Helper", "Lucy", "Giveaway Bot")
CITIES = ("北京", "上海", "深圳", "杭州", "成都", "广州", "武汉", "南京")


def display_name(rng: random.Random, platform: str, zh: bool) -> str:
    """A display name in the style people actually use on ``platform``."""
    r = rng.random()
    if zh and platform != "discord":
        if r < 0.4:
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        elif r < 0.55:
            name = rng.choice(("小", "阿", "老")) + rng.choice(GIVEN)
        elif r < 0.75:
            name = rng.choice(ZH_NICKS)
        elif r < 0.85:
            name = f"{rng.choice(CITIES)}-{rng.choice(SURNAMES)}{rng.choice(GIVEN)}"
        else:
            name = rng.choice(EN_FIRST) + rng.choice(("", "", " " + rng.choice(SURNAMES)))
        return name + rng.choice(NAME_DECOR)
    if platform == "discord" or r < 0.3:
        sep = rng.choice(("_", ".", ""))
        return f"{rng.choice(HANDLE_WORDS)}{sep}{rng.choice(HANDLE_WORDS)}{rng.randint(1, 9999)}"
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}" if r < 0.8 else rng.choice(EN_FIRST)


def identity_id(rng: random.Random, platform: str) -> str:
    if platform == "wechat":
        if rng.random() < 0.8:
            return wechat_id(rng)
        return rng.choice(string.ascii_lowercase) + "".join(
            rng.choices(LOWER, k=rng.randint(6, 12))
        )
    if platform == "telegram":
        return f"user{rng.randint(100_000_000, 7_999_999_999)}"
    return str(rng.randint(10**17, 12 * 10**17))


def group_id(rng: random.Random, platform: str) -> str:
    if platform == "wechat":
        return f"{rng.randint(10**10, 6 * 10**10 - 1)}@chatroom"
    if platform == "telegram":
        return f"-100{rng.randint(10**9, 2 * 10**9)}"
    return str(rng.randint(7 * 10**17, 12 * 10**17))


def group_title(rng: random.Random, base: str, zh: bool) -> str:
    r = rng.random()
    if zh:
        if r < 0.4:
            return f"{base}{rng.randint(1, 30)}群"
        if r < 0.6:
            return f"{rng.choice(CITIES)}{base}"
        return base
    return f"{base} #{rng.randint(1, 12)}" if r < 0.3 else base


def unique(rng: random.Random, make: Callable[[random.Random], str], seen: set[str]) -> str:
    """Draw ids until one is new: ids must never collide across a demo community."""
    while True:
        value = make(rng)
        if value not in seen:
            seen.add(value)
            return value


def bot_refs() -> dict[str, tuple[IdentityRef, ...]]:
    return {
        p: tuple(IdentityRef(p, ext, name, is_bot=True) for ext, name in bots)
        for p, bots in BOTS.items()
    }


def spam_identity(rng: random.Random, platform: str, zh: bool, seen: set[str]) -> IdentityRef:
    """A fresh account for an ad burst: new id, salesy name."""
    ext = unique(rng, lambda r: identity_id(r, platform), seen)
    name = rng.choice(SPAM_NAMES_ZH if zh else SPAM_NAMES_EN)
    if rng.random() < 0.5:
        name += str(rng.randint(1, 99))
    return IdentityRef(platform, ext, name)
