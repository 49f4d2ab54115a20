"""Message templates and word lists for the demo community.

Texts are rendered once per (language, theme) into small pools when a plan is
built, so the per-event work is one list lookup instead of string formatting:
the generator has to produce millions of events in seconds. Templates carry
slots (``{topic}``, ``{thing}``, ``{n}`` …) filled from the theme's vocabulary
so a running group talks about 配速 and a Python group about 装饰器.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass


def wordlist(words: str) -> tuple[str, ...]:
    """``"a | b | c"`` -> ``("a", "b", "c")``: long word lists stay compact."""
    return tuple(w.strip() for w in words.split("|"))


def _lines(block: str) -> tuple[str, ...]:
    """One template per non-empty line of a triple-quoted block."""
    return tuple(line for line in block.splitlines() if line.strip())


# --- themes: per language, a title and the vocabulary its slots draw from

ZH_THEMES: dict[str, dict[str, tuple[str, ...]]] = {
    "python": {
        "title": wordlist("Python 学习交流群 | Python 自学打卡群 | 数据分析实战群"),
        "topic": wordlist(
            "装饰器 | 异步编程 | pandas | 爬虫 | Django | 类型注解 | 虚拟环境 | "
            "正则表达式 | 多线程 | 面向对象 | 列表推导式 | 报错 ModuleNotFoundError"
        ),
        "thing": wordlist(
            "PyCharm | VS Code | Jupyter | Anaconda | uv | FastAPI | ChatGPT | "
            "《流畅的Python》 | 廖雪峰教程"
        ),
        "act": wordlist("写代码 | 刷题 | 看文档 | 调 bug | 做项目 | 看网课"),
    },
    "running": {
        "title": wordlist("跑步打卡群 | 夜跑团 | 马拉松备赛群"),
        "topic": wordlist(
            "配速 | 心率区间 | 半马 | 全马 | 间歇跑 | 跑后拉伸 | 膝盖疼 | LSD 长距离"
        ),
        "thing": wordlist("跑鞋 | 佳明手表 | 压缩袜 | 能量胶 | Keep | 悦跑圈"),
        "act": wordlist("晨跑 | 夜跑 | 跑了 5 公里 | 跑了 10 公里 | 练核心 | 爬楼"),
    },
    "parenting": {
        "title": wordlist("宝妈交流群 | 育儿经验分享群 | 幼升小家长群"),
        "topic": wordlist("辅食 | 睡眠训练 | 幼升小 | 打疫苗 | 早教 | 湿疹 | 断奶 | 兴趣班"),
        "thing": wordlist("奶粉 | 纸尿裤 | 绘本 | 儿童座椅 | 安抚奶嘴 | 点读笔"),
        "act": wordlist("带娃 | 讲绘本 | 哄睡 | 做辅食 | 遛娃"),
    },
    "kaoyan": {
        "title": wordlist("考研互助群 | 考研上岸冲刺群 | 408 考研交流"),
        "topic": wordlist("英语一 | 数学二 | 政治 | 专业课 | 复试 | 调剂 | 择校 | 408"),
        "thing": wordlist("真题 | 肖秀荣 1000 题 | 张宇 18 讲 | 不背单词 | 考研帮"),
        "act": wordlist("背单词 | 刷真题 | 复习 | 整理错题 | 上自习"),
    },
    "invest": {
        "title": wordlist("理财学习群 | 基金定投交流群 | 财商读书会"),
        "topic": wordlist("基金定投 | 指数基金 | 可转债 | 资产配置 | 美股 | 养老金 | 止盈"),
        "thing": wordlist("沪深300 | 纳指ETF | 国债逆回购 | 余额宝 | 红利指数 | 招行App"),
        "act": wordlist("定投 | 复盘 | 记账 | 看财报"),
    },
    "photo": {
        "title": wordlist("摄影爱好者交流群 | 胶片摄影群 | 城市扫街群"),
        "topic": wordlist("构图 | 后期 | 人像 | 夜景 | 胶片 | 调色 | 延时摄影"),
        "thing": wordlist("富士 XT5 | 索尼 A7M4 | Lightroom | 35mm 定焦 | 三脚架 | 滤镜"),
        "act": wordlist("扫街 | 修图 | 拍日落 | 外拍"),
    },
    "ai": {
        "title": wordlist("AI 绘画交流群 | 大模型应用交流群 | AIGC 学习群"),
        "topic": wordlist("提示词 | LoRA | ControlNet | 大模型 | 微调 | RAG | Agent"),
        "thing": wordlist("Stable Diffusion | ComfyUI | Midjourney | 通义千问 | DeepSeek | Kimi"),
        "act": wordlist("炼丹 | 出图 | 跑模型 | 调提示词"),
    },
    "reading": {
        "title": wordlist("读书会 | 每天读书 30 分钟 | 好书分享群"),
        "topic": wordlist("三体 | 活着 | 人类简史 | 置身事内 | 百年孤独 | 认知觉醒"),
        "thing": wordlist("Kindle | 微信读书 | 纸质书 | 得到 | 樊登读书"),
        "act": wordlist("读书 | 写读书笔记 | 听书 | 做摘抄"),
    },
}

EN_THEMES: dict[str, dict[str, tuple[str, ...]]] = {
    "python": {
        "title": wordlist("Python Learners | Python Study Group | Data Science Hangout"),
        "topic": wordlist(
            "decorators | asyncio | pandas | type hints | virtualenvs | packaging | "
            "list comprehensions | pytest fixtures | the GIL"
        ),
        "thing": wordlist("VS Code | PyCharm | Jupyter | uv | FastAPI | Django | Fluent Python"),
        "act": wordlist("coding | doing leetcode | reading the docs | debugging | refactoring"),
    },
    "running": {
        "title": wordlist("Morning Runners Club | Marathon Training | Couch to 5K"),
        "topic": wordlist(
            "pacing | heart rate zones | half marathons | intervals | shin splints | long runs"
        ),
        "thing": wordlist("running shoes | Garmin watch | Strava | energy gels | foam roller"),
        "act": wordlist("running | a 10k | tempo runs | stretching | strength training"),
    },
    "gamedev": {
        "title": wordlist("Indie Game Dev | Godot Devs | Pixel Art Corner"),
        "topic": wordlist(
            "shaders | pixel art | level design | Godot signals | game feel | save systems"
        ),
        "thing": wordlist("Godot | Unity | Aseprite | Blender | itch.io | Steam"),
        "act": wordlist("prototyping | making art | playtesting | game jamming"),
    },
    "language": {
        "title": wordlist("Chinese-English Exchange | Learn Mandarin Together | HSK Study Group"),
        "topic": wordlist("tones | HSK 4 | measure words | chengyu | pinyin | radicals"),
        "thing": wordlist("Anki | Pleco | HelloChinese | Duolingo | HSK textbooks"),
        "act": wordlist("practicing characters | shadowing | doing flashcards | speaking practice"),
    },
    "ai": {
        "title": wordlist("AI Art & Prompting | LLM Builders | Generative AI Hub"),
        "topic": wordlist("prompting | LoRAs | ControlNet | fine-tuning | RAG | agents"),
        "thing": wordlist("Stable Diffusion | ComfyUI | Midjourney | Llama | Ollama"),
        "act": wordlist("training | generating | testing prompts | benchmarking"),
    },
    "books": {
        "title": wordlist("Book Club | Sci-Fi Readers | Read 50 Books"),
        "topic": wordlist(
            "The Three-Body Problem | Dune | Atomic Habits | Sapiens | Project Hail Mary"
        ),
        "thing": wordlist("Kindle | Goodreads | audiobooks | the library app | paperbacks"),
        "act": wordlist("reading | journaling | listening to audiobooks | annotating"),
    },
}

ZH_COMMON = {
    "city": wordlist("北京 | 上海 | 深圳 | 杭州 | 成都 | 广州 | 武汉 | 南京 | 西安 | 苏州"),
    "food": wordlist("火锅 | 麻辣烫 | 螺蛳粉 | 烧烤 | 饺子 | 黄焖鸡 | 轻食沙拉"),
}

EN_COMMON = {
    "city": wordlist("London | Toronto | Singapore | Berlin | Sydney | NYC | SF | Austin"),
    "food": wordlist("pizza | ramen | tacos | sushi | a burrito | pho"),
}

# --- templates per category, one per line ----------------------------------------

ZH: dict[str, tuple[str, ...]] = {
    "chat": _lines(
        """
今天{topic}这块终于搞明白了
我觉得{thing}比之前好用多了
刚{act}完，累死了
周末打算去{city}{act}
{thing}最近降价了，需要的可以看看
哈哈哈哈哈
确实
同感
学到了
感谢分享🙏
这个{topic}讲得太好了
昨天{act}到{h}点
群里好热闹
晚上吃{food}
下班了，准备{act}
{city}今天好热
终于周五了
我也遇到过{topic}的问题
{topic}真的是一门学问
收藏了
mark 一下
大佬太强了
新人一枚，请多指教
坚持{n}天了，感觉有进步
今天状态不错
{thing}用了{n}个月，说说感受：还行
一直潜水，今天冒个泡
有点难😭
我在{city}，有同城的吗
刚看到群公告，下周有活动
这周{act}了{n}次
{topic}入门其实没那么难
求带飞
说得对
明天继续
好羡慕
"""
    ),
    "question": _lines(
        """
请问{topic}怎么入门？
{thing}和{thing2}哪个好？
有人用过{thing}吗？
如何提高{topic}水平？
请问大家{topic}一般怎么处理
{city}有一起{act}的吗？
这个{topic}的问题怎么解决？
新手{act}需要准备什么？
群里有人懂{topic}吗
{thing}值得买吗？
请问群公告在哪看？
下次活动是什么时候？
{topic}和{topic2}有什么区别？
怎么坚持每天{act}啊
有推荐的{thing}吗？
大家{act}一般安排在什么时间？
请问有{topic}的资料吗
这个要怎么报名？
"""
    ),
    "answer": _lines(
        """
可以试试{thing}，我一直在用
先把{topic}基础打牢再说
看群公告，里面有资料
我之前也是这样，后来用{thing}解决了
建议先{act}，慢慢来
群文件里有教程
{thing}性价比挺高的
不太建议，{thing2}更适合新手
私聊你了
官网文档写得很清楚
我一般晚上{h}点{act}
{topic}的话推荐先看{thing}
报名链接在群公告里
下周六，地点在{city}
多练就好了，别急
"""
    ),
    "reply": _lines(
        """
哈哈哈是的
+1
同意
对对对
真的
太真实了
好的谢谢
收到
666
厉害了
确实是这样
我也是
哈哈哈笑死
有道理
谢谢大佬🙏
好嘞
赞👍
不是吧
原来如此
"""
    ),
    "checkin": _lines(
        """
打卡
签到
第{n}天打卡✅
#打卡 今天{act}{m}分钟
Day{n} 打卡
今日签到
打卡第{n}天，坚持！
已打卡
晚打卡 今天{act}了
【打卡】{act} {m} 分钟 ✔
签到+1
打卡🎉 连续{n}天
"""
    ),
    "morning": _lines(
        """
早上好☀️
早
大家早安
早上好，今天也要加油💪
早啊各位
早安打工人
"""
    ),
    "evening": _lines(
        """
晚安
大家晚安🌙
睡了睡了
晚安各位，明天见
今天就到这，晚安
"""
    ),
    "mention": _lines(
        """
你上次说的{thing}在哪买的？
帮忙看看这个
谢谢大佬
收到
你也在{city}吗
你{act}多久了？
周末一起{act}？
恭喜恭喜🎉
明白了，谢谢
"""
    ),
    "link": _lines(
        """
{topic}入门指南｜超详细
一文读懂{topic}
{thing}深度测评
我的{act}心得分享
{topic}常见问题汇总
{n} 个{topic}小技巧
{city}{act}攻略
"""
    ),
    "file": _lines(
        """
{topic}资料整理.pdf
{thing}教程.docx
群规.pdf
第{n}期笔记.pdf
{topic}思维导图.xmind
"""
    ),
    "spam": _lines(
        """
加我微信 {wxid}，免费领取{topic}资料包
兼职刷单，日结{m}元，有意私聊
高收益理财，稳赚不赔，详情 {url}
招聘宝妈兼职，在家就能做，加V：{wxid}
【福利】扫码领取红包🧧 {url}
低价代购{thing}，需要的加 {wxid}
免费试听课程，点击 {url}
日赚{m}不是梦！V：{wxid}
"""
    ),
    "welcome": _lines(
        """
欢迎 @{name} 加入本群🎉 请先阅读群公告，改好群备注（城市-昵称）
欢迎新朋友 @{name}！有问题随时在群里问～
"""
    ),
    "reminder": _lines(
        """
【每日打卡提醒】今天你打卡了吗？回复“打卡”参与积分排行
⏰ 打卡时间到！已连续打卡的同学继续保持💪
【签到】今日签到已开启，签到可得 {n} 积分
"""
    ),
}

EN: dict[str, tuple[str, ...]] = {
    "chat": _lines(
        """
finally understood {topic} today
{thing} is so much better than it used to be
just finished {act}, exhausted
thinking of {act} in {city} this weekend
lol
same here
TIL
thanks for sharing!
this {topic} thread is gold
nice
had {food} for dinner
off work, time for {act}
finally friday
I ran into the same {topic} issue
saved for later
you're all amazing
new here, hi everyone
{n} days in a row now, feeling good
long time lurker
this is hard 😭
anyone else in {city}?
did {act} {n} times this week
{topic} is not that scary once you start
been using {thing} for {n} months, solid
great session yesterday
back at it tomorrow
"""
    ),
    "question": _lines(
        """
How do I get started with {topic}?
{thing} or {thing2}?
Has anyone tried {thing}?
How do you get better at {topic}?
Any tips for {topic}?
Anyone in {city}?
What's the difference between {topic} and {topic2}?
Is {thing} worth it?
Where are the pinned rules?
When is the next meetup?
how do you stay consistent?
Does anyone know a good guide for {topic}?
Can someone help me with {topic}?
What time do you usually do {act}?
"""
    ),
    "answer": _lines(
        """
Try {thing}, works for me
Get the {topic} basics down first
Check the pinned post
Had the same problem, {thing} fixed it
Start with {act} and take it slow
There's a guide in #resources
{thing} is great value
I'd go with {thing2}
DM'd you
The official docs are really good
Usually around {h} pm
For {topic} I'd read up on {thing} first
Next Saturday in {city}
"""
    ),
    "reply": _lines(
        """
haha yes
+1
agreed
so true
this
thanks!
got it
nice one
same
lmao
makes sense
wow
exactly
good point
"""
    ),
    "checkin": _lines(
        """
check-in
Day {n} ✅
day {n} done
#checkin {act} for {m} min
checking in!
streak: {n} days
done for today ✔
Day {n}: {act}
"""
    ),
    "morning": _lines(
        """
good morning ☀️
morning all
gm
morning!
gm gm
"""
    ),
    "evening": _lines(
        """
good night
night all 🌙
gn
off to bed, see you tomorrow
"""
    ),
    "mention": _lines(
        """
where did you get the {thing}?
can you take a look?
thanks!
are you in {city} too?
how long have you been {act}?
congrats 🎉
"""
    ),
    "link": _lines(
        """
A beginner's guide to {topic}
{thing} review
My {act} routine
{n} tips for {topic}
{topic} explained
Notes from the {city} meetup
"""
    ),
    "file": _lines(
        """
{topic}-notes.pdf
{thing}-cheatsheet.pdf
rules.pdf
week-{n}-notes.pdf
"""
    ),
    "spam": _lines(
        """
Earn ${m} a day working from home! DM me
Free crypto airdrop, claim now: {url}
Investment opportunity, 300% returns, contact {wxid}
Get {thing} for free: {url}
I made ${m} last week with this trading bot, ask me how {url}
Hi dear, check my profile {url}
"""
    ),
    "welcome": _lines(
        """
Welcome @{name}! 👋 Please read the pinned rules and introduce yourself.
Say hi to @{name}, our newest member 🎉
"""
    ),
    "reminder": _lines(
        """
⏰ Daily check-in! Reply 'check-in' to keep your streak.
Daily reminder: post your progress for today 💪
Check-in is open, {n} points for today's check-in
"""
    ),
}

WECHAT_EMOJI = (
    "[旺柴]",
    "[捂脸]",
    "[强]",
    "[OK]",
    "[微笑]",
    "[偷笑]",
    "[呲牙]",
    "[抱拳]",
    "[玫瑰]",
    "[耶]",
    "[裂开]",
    "[让我看看]",
    "[破涕为笑]",
    "[666]",
    "[加油]",
    "[好的]",
)
DISCORD_EMOJI = (":kekw:", ":pepe_laugh:", ":thumbsup:", ":fire:", ":100:", ":eyes:", ":pray:")
PLAIN_EMOJI = ("😂", "👍", "🔥", "😂😂😂", "🙏", "❤️", "👀", "🎉", "💯", "🤣")

LINK_SITES = {
    "zh": (
        "https://mp.weixin.qq.com/s/{r22}",
        "https://www.bilibili.com/video/BV1{r9}",
        "https://www.zhihu.com/question/{d9}",
        "https://www.xiaohongshu.com/explore/{h24}",
        "https://github.com/{w}/{w2}",
    ),
    "en": (
        "https://www.youtube.com/watch?v={r11}",
        "https://github.com/{w}/{w2}",
        "https://medium.com/@{w}/{w2}-{h12}",
        "https://www.reddit.com/r/{w}/comments/{r6}/",
        "https://news.ycombinator.com/item?id={d8}",
    ),
}
SPAM_SITES = (
    "http://t.cn/A6{r6}",
    "https://bit.ly/3{r6}",
    "http://hongbao-{d4}.cc/{r8}",
    "https://airdrop-{w}.xyz/claim?id={d6}",
)
URL_WORDS = ("awesome", "notes", "guide", "toolkit", "starter", "learn", "daily", "lab", "hub")

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
LOWER = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class Pools:
    """Pre-rendered texts of one (language, theme); ``links``/``spam`` carry their URLs."""

    lang: str
    texts: dict[str, tuple[str, ...]]
    links: tuple[tuple[str, str], ...]
    spam: tuple[tuple[str, str | None], ...]


def themes(lang: str) -> tuple[str, ...]:
    return tuple(ZH_THEMES if lang == "zh" else EN_THEMES)


def theme_titles(lang: str, theme: str) -> tuple[str, ...]:
    return (ZH_THEMES if lang == "zh" else EN_THEMES)[theme]["title"]


def random_url(rng: random.Random, pattern: str) -> str:
    """Fill a URL pattern's placeholders ({r22} = 22 random letters/digits, {d9}, {h24} …)."""
    fields: dict[str, str] = {"w": rng.choice(URL_WORDS), "w2": rng.choice(URL_WORDS)}
    for _lit, name, _spec, _conv in string.Formatter().parse(pattern):
        if name and name not in fields:
            alphabet = {"r": ALNUM, "d": string.digits, "h": HEX}[name[0]]
            fields[name] = "".join(rng.choices(alphabet, k=int(name[1:])))
    return pattern.format(**fields)


def wechat_id(rng: random.Random) -> str:
    return "wxid_" + "".join(rng.choices(LOWER, k=14))


def _render(rng: random.Random, template: str, vocab: dict[str, tuple[str, ...]]) -> str:
    slots: dict[str, str] = {}
    for _lit, name, _spec, _conv in string.Formatter().parse(template):
        if not name or name in slots:
            continue
        if name in ("n", "m"):
            slots[name] = str(
                rng.randint(1, 120)
                if name == "n"
                else rng.choice((10, 20, 30, 45, 60, 90, 200, 500))
            )
        elif name == "h":
            slots[name] = str(rng.randint(8, 11))
        elif name == "name":
            slots[name] = "{name}"  # filled per event with the member's display name
        elif name == "wxid":
            slots[name] = wechat_id(rng) if rng.random() < 0.5 else "".join(rng.choices(LOWER, k=8))
        elif name == "url":
            slots[name] = random_url(rng, rng.choice(SPAM_SITES))
        else:
            base = name.rstrip("2")
            slots[name] = rng.choice(vocab[base])
    return template.format(**slots)


def build_pools(seed: int, lang: str, theme: str, size: int = 160) -> Pools:
    """Render ``size`` texts per category; deterministic in (seed, lang, theme)."""
    rng = random.Random(f"qunyun-demo-texts:{seed}:{lang}:{theme}")
    table = ZH if lang == "zh" else EN
    vocab = dict((ZH_THEMES if lang == "zh" else EN_THEMES)[theme])
    vocab.update(ZH_COMMON if lang == "zh" else EN_COMMON)
    texts: dict[str, tuple[str, ...]] = {}
    for cat, templates in table.items():
        if cat in ("spam", "link"):
            continue
        n = size if any("{" in t for t in templates) else len(templates)
        texts[cat] = tuple(_render(rng, rng.choice(templates), vocab) for _ in range(n))
    links = tuple(
        (
            _render(rng, rng.choice(table["link"]), vocab),
            random_url(rng, rng.choice(LINK_SITES[lang])),
        )
        for _ in range(size)
    )
    spam = tuple(_spam(rng, table["spam"], vocab) for _ in range(size // 2))
    return Pools(lang=lang, texts=texts, links=links, spam=spam)


def _spam(
    rng: random.Random, templates: tuple[str, ...], vocab: dict[str, tuple[str, ...]]
) -> tuple[str, str | None]:
    text = _render(rng, rng.choice(templates), vocab)
    url = next((w for w in text.split() if w.startswith("http")), None)
    return text, url
