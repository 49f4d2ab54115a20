"""Tokenize demo chat messages with qunyun's keyword tokenizer: messages/s.

    python bench/keywords_bench.py --messages 100000 [--zh-share 0.7] [--no-hmm] [--no-cache]

Messages are drawn from the demo generator's text pools (every theme, Chinese
and English), two pool texts glued with a random number so that no two
messages are alike. jieba's one-off dictionary load is timed separately
(``init_seconds``) and not counted in ``seconds``. Demo pools repeat phrases
more than real chat does, which flatters the phrase cache: ``--no-cache`` gives
the worst case, every phrase segmented afresh. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from qunyun.analytics.keywords import Tokenizer
from qunyun.analytics.terms import TermCounter, top_terms
from qunyun.demo.texts import build_pools, themes


def make_messages(count: int, zh_share: float, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    pools: dict[str, list[str]] = {}
    for lang in ("zh", "en"):
        texts: list[str] = []
        for theme in themes(lang):
            p = build_pools(seed, lang, theme)
            for cat in p.texts.values():
                texts.extend(cat)
            texts.extend(t for t, _url in p.links)
        pools[lang] = [t.replace("{name}", "小王" if lang == "zh" else "Sam") for t in texts]
    out = []
    for _ in range(count):
        pool = pools["zh" if rng.random() < zh_share else "en"]
        text = rng.choice(pool)
        if rng.random() < 0.3:
            text += f" {rng.randint(1, 999)} " + rng.choice(pool)
        out.append(text)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--zh-share", type=float, default=0.7)
    ap.add_argument("--no-hmm", action="store_true", help="jieba without HMM new-word guessing")
    ap.add_argument("--no-cache", action="store_true", help="segment every phrase afresh")
    args = ap.parse_args()
    messages = make_messages(args.messages, args.zh_share)
    tok = Tokenizer(hmm=not args.no_hmm, cache_size=0 if args.no_cache else 200_000)
    start = time.perf_counter()
    tok.tokenize("预热")
    init = time.perf_counter() - start
    counter = TermCounter()
    start = time.perf_counter()
    for text in messages:
        counter.add(tok.tokenize(text))
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "messages": len(messages),
                "chars": sum(len(m) for m in messages),
                "hmm": not args.no_hmm,
                "phrase_cache": not args.no_cache,
                "init_seconds": round(init, 3),
                "seconds": round(seconds, 3),
                "messages_per_s": round(len(messages) / seconds),
                "top_terms": top_terms(counter.df, 10),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
