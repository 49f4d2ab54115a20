"""Generate a realistic Android WhatsApp group export of N lines, for benchmarks.

Layout: ``12/31/20, 9:41 PM - Name: text`` (US, 12 h clock, U+202F before AM/PM),
with multi-line messages, media placeholders, deletions, links, mentions and
system lines (joins by link, adds, leaves, removals, subject changes).
Deterministic for a given seed; written line by line, so memory stays flat.

    python bench/gen_whatsapp.py 1000000 /tmp/wa.txt --seed 1
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta
from pathlib import Path

_VOCABULARY = (
    "ok sure trail meet tomorrow morning water summit lake ridge photo great thanks "
    "weather rain sun bring snacks car parking 7am late sorry haha nice see you all"
)
WORDS = _VOCABULARY.split()
NB = "\u202f"


def stamp(t: datetime) -> str:
    hour = t.hour % 12 or 12
    ampm = "AM" if t.hour < 12 else "PM"
    return f"{t.month}/{t.day}/{t.year % 100:02d}, {hour}:{t.minute:02d}{NB}{ampm} - "


def sentence(rng: random.Random, lo: int = 2, hi: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def generate(n_lines: int, out: Path, seed: int) -> int:
    rng = random.Random(seed)
    members = [f"Member {i}" for i in range(40)] + [f"+1 555 01{i:02d}" for i in range(10)]
    t = datetime(2020, 1, 1, 8, 0)
    written = 0
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(
            stamp(t) + "Messages and calls are end-to-end encrypted. No one outside of "
            "this chat, not even WhatsApp, can read or listen to them. Tap to learn more.\n"
        )
        fh.write(stamp(t) + 'Member 0 created group "Bench Hikers"\n')
        written = 2
        while written < n_lines:
            t += timedelta(minutes=rng.choice((0, 0, 1, 1, 2, 5, 30)))
            who = rng.choice(members)
            r = rng.random()
            head = stamp(t)
            if r < 0.01:
                other = rng.choice(members)
                line = rng.choice(
                    (
                        f"{other} joined using this group's invite link",
                        f"{who} added {other}",
                        f"{other} left",
                        f"{who} removed {other}",
                        f'{who} changed the subject from "Bench Hikers" to "Bench Hikers {t.year}"',
                    )
                )
                fh.write(head + line + "\n")
                written += 1
            elif r < 0.06:
                fh.write(f"{head}{who}: <Media omitted>\n")
                written += 1
            elif r < 0.07:
                fh.write(f"{head}{who}: This message was deleted\n")
                written += 1
            elif r < 0.12:
                extra = rng.randint(1, 4)
                fh.write(f"{head}{who}: {sentence(rng)}\n")
                for _ in range(extra):
                    fh.write(sentence(rng, 1, 10) + "\n")
                written += 1 + extra
            elif r < 0.15:
                fh.write(
                    f"{head}{who}: see https://example.org/{rng.randint(1, 999)} "
                    f"@{rng.choice(members).split()[0]}\n"
                )
                written += 1
            else:
                fh.write(f"{head}{who}: {sentence(rng)}\n")
                written += 1
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lines", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    n = generate(args.lines, args.out, args.seed)
    print(f'{{"lines": {n}, "path": "{args.out}"}}')


if __name__ == "__main__":
    main()
