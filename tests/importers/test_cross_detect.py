"""Discord, Slack and IRC detection must not claim each other's samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from qunyun.importers.discord import IMPORTER as DISCORD
from qunyun.importers.irc import IMPORTER as IRC
from qunyun.importers.slack import IMPORTER as SLACK

SAMPLES = Path(__file__).parent / "samples"
CASES = [
    ("discord", SAMPLES / "discord" / "server"),
    ("discord", SAMPLES / "discord" / "dm"),
    ("slack", SAMPLES / "slack" / "export"),
    ("irc", SAMPLES / "irc" / "irssi"),
    ("irc", SAMPLES / "irc" / "weechat"),
    ("irc", SAMPLES / "irc" / "znc"),
    ("irc", SAMPLES / "irc" / "ubuntu"),
]


@pytest.mark.parametrize(("owner", "path"), CASES)
def test_only_the_owner_claims_a_sample(owner: str, path: Path) -> None:
    scores = {"discord": DISCORD.detect(path), "slack": SLACK.detect(path), "irc": IRC.detect(path)}
    assert scores[owner] >= 85
    assert all(score == 0 for name, score in scores.items() if name != owner), scores
