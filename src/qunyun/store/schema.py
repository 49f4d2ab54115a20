"""The declared schema; migrations must produce exactly this (a test checks).

Plain SQLAlchemy Core tables rather than ORM classes: the hot paths (ingest,
rollups) are bulk statements, and the rest reads better as queries than as
object graphs.

The raw log is ``events``. ``groups``, ``identities``, ``persons``,
``identity_names`` and ``memberships`` are kept current by the ingester from the
events it writes, with order-independent updates (min/max/sum), so importing
the same history in any order, or twice, gives the same rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(value: datetime) -> int:
    """UTC microseconds since the epoch: SQLite's representation of a time."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: qunyun stores only aware times")
    d = value - EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def from_micros(value: int) -> datetime:
    # a third of the time of fromtimestamp() + replace(): every time read from SQLite
    # comes through here
    return EPOCH + timedelta(microseconds=value)


class UtcDateTime(TypeDecorator[datetime]):
    """An instant: ``timestamptz`` on PostgreSQL, integer UTC microseconds on SQLite.

    SQLite has no time type; integers sort, compare and bucket (``ts / 3600e6``)
    cheaply and cannot lose the zone the way SQLAlchemy's string storage does.
    Python always sees aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return to_micros(value)
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: qunyun stores only aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return from_micros(int(value))
        assert isinstance(value, datetime)
        return value.astimezone(UTC)


Payload = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("title", Text),
    Column("tz", String(64), nullable=False, server_default="UTC"),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("platform", "external_id"),
)

persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("display_name", Text),
    Column("created_at", UtcDateTime, nullable=False),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("display_name", Text),
    # time of the newest event that showed display_name: later names win, whatever
    # order the history arrives in
    Column("display_name_at", UtcDateTime),
    Column("is_bot", Boolean, nullable=False, server_default="0"),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("platform", "external_id"),
)

identity_names = Table(
    "identity_names",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("identity_id", Integer, ForeignKey("identities.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    UniqueConstraint("identity_id", "name"),
    # who else showed a name (qunyun.crm.links): a lookup, not a scan of every name
    Index(None, "name"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    # a group lives on one platform, so an identity stands for its person here;
    # person_id is kept alongside so CRM merges re-point memberships in one update
    Column("identity_id", Integer, ForeignKey("identities.id"), nullable=False, index=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    Column("first_joined_at", UtcDateTime),
    Column("last_joined_at", UtcDateTime),
    Column("last_left_at", UtcDateTime),
    Column("left_how", String(16)),  # leave | kick | ban, of the last exit
    Column("join_method", String(32), nullable=False, server_default="unknown"),
    Column("invited_by_id", Integer, ForeignKey("identities.id")),
    Column("channel_code", String(255)),
    Column("invite_link", Text),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("message_count", Integer, nullable=False, server_default="0"),
    # the earliest message in the group: a newcomer's first message after joining,
    # without searching the log (analytics.report), whenever it is not before the join
    Column("first_message_at", UtcDateTime),
    UniqueConstraint("group_id", "identity_id"),
    # "member on day d" of every membership of some groups (analytics.members) read
    # from this index alone, without a lookup of each wide row
    Index(
        "ix_memberships_group_spans",
        "group_id",
        "identity_id",
        "first_joined_at",
        "first_seen_at",
        "last_joined_at",
        "last_left_at",
    ),
)

# A name-only identity (a member a notice named by display name alone, e.g. QQ's
# "昵称加入本群") linked to the one identity with a real id that showed that name in the
# group and spoke after the join (qunyun.crm.links). The event log is never rewritten:
# the link folds the alias's membership row into the speaker's, and undoing it rebuilds
# both rows from the log; the record stays, marked undone, so a later run of the
# linker does not make the same link again.
identity_links = Table(
    "identity_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("alias_id", Integer, ForeignKey("identities.id"), nullable=False),
    Column("identity_id", Integer, ForeignKey("identities.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),  # the display name both showed
    Column("joined_at", UtcDateTime, nullable=False),  # the alias's join
    Column("first_message_at", UtcDateTime, nullable=False),  # the speaker's first message
    Column("reason_code", String(32), nullable=False),
    Column("reason", Text, nullable=False),  # the evidence in words
    Column("created_at", UtcDateTime, nullable=False),
    Column("undone_at", UtcDateTime),
    # one decision per alias and group: linked, or linked and undone
    UniqueConstraint("group_id", "alias_id"),
)

events = Table(
    "events",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("source_event_id", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("ts", UtcDateTime, nullable=False),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("actor_id", Integer, ForeignKey("identities.id")),
    Column("target_id", Integer, ForeignKey("identities.id")),
    Column("payload", Payload, nullable=False),
    UniqueConstraint("source_id", "source_event_id"),
    Index(None, "group_id", "ts"),
    Index(None, "actor_id", "ts"),
    # member events only (join, leave, kick…): a member's timeline finds them cheaply
    Index(
        None,
        "target_id",
        "ts",
        sqlite_where=text("target_id IS NOT NULL"),
        postgresql_where=text("target_id IS NOT NULL"),
    ),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("path", Text, nullable=False),
    Column("format", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # running | done | failed | interrupted
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("result", Payload),
)

# --------------------------------------------------------------------------- rollups
# Kept by qunyun.analytics.rollups in the same transaction as the events they count.
# Times are *local* to the group's zone: ``local_hour`` is hours since 1970-01-01T00:00
# local wall-clock time, ``local_day`` days since then, so a dashboard reads a day or an
# hour of the heatmap without any zone arithmetic.

rollup_state = Table(
    "rollup_state",
    metadata,
    Column("name", String(64), primary_key=True),
    # highest events.id folded in; everything at or below it is counted exactly once
    Column("position", BigInteger, nullable=False),
)


def _group_counts() -> list[Column[int]]:
    """The counts group_hourly and group_daily both keep (fresh columns per table)."""
    names = ("messages", "effective", "questions", "bot_messages", "joins", "exits")
    return [Column(n, Integer, nullable=False, server_default="0") for n in names]


group_hourly = Table(
    "group_hourly",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id"), primary_key=True),
    Column("local_hour", Integer, primary_key=True),
    *_group_counts(),
    sqlite_with_rowid=False,
)

# the same counts per local day: what overviews, health and stats sum over months
# of a thousand groups read 24 times fewer rows here than in group_hourly
group_daily = Table(
    "group_daily",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id"), primary_key=True),
    Column("local_day", Integer, primary_key=True),
    *_group_counts(),
    sqlite_with_rowid=False,
)

member_daily = Table(
    "member_daily",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id"), primary_key=True),
    Column("local_day", Integer, primary_key=True),
    Column("identity_id", Integer, ForeignKey("identities.id"), primary_key=True),
    Column("messages", Integer, nullable=False, server_default="0"),
    Column("effective", Integer, nullable=False, server_default="0"),
    sqlite_with_rowid=False,
)

join_daily = Table(
    "join_daily",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id"), primary_key=True),
    Column("local_day", Integer, primary_key=True),
    Column("method", String(32), primary_key=True),
    # channel code, invite link, or "identity:<id>" of the inviter; "" when unknown
    Column("source", String(255), primary_key=True),
    Column("joins", Integer, nullable=False, server_default="0"),
    sqlite_with_rowid=False,
)

questions = Table(
    "questions",
    metadata,
    # every question (classify.is_question on an effective human message), so time to
    # first response needs only (time, author) of messages, never their payloads
    Column("event_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id"), nullable=False),
    Column("ts", UtcDateTime, nullable=False),
    Column("actor_id", Integer, ForeignKey("identities.id"), nullable=False),
    # when the first reply by another human came (NULL: none yet), kept current as
    # events arrive (analytics.rollups), so a median wait is a scan of this table
    Column("answered_at", UtcDateTime),
    Index(None, "group_id", "ts"),
    # the questions a newly arrived message may answer: unanswered, or answered later
    Index(None, "group_id", "answered_at"),
)

# --------------------------------------------------------------------------- console
# Accounts, sessions, tokens, the audit log, settings and background jobs of the
# web console (qunyun.accounts, qunyun.jobs). Secrets are stored only as hashes.

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),  # owner | admin | operator | viewer
    # operators and viewers see the groups in user_groups, or every group when set
    Column("all_groups", Boolean, nullable=False, server_default="0"),
    Column("lang", String(8)),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("password_changed_at", UtcDateTime, nullable=False),
)

user_groups = Table(
    "user_groups",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    # sha256 of the secret part; the token itself is shown once and never stored
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
)

sessions = Table(
    "sessions",
    metadata,
    Column("secret_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    # "user:<name>" and "ip:<address>": both are limited
    Column("key", String(160), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "key", "at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    # kept as written so the log still says who after the user is gone
    Column("user_name", String(64)),
    Column("action", String(64), nullable=False),
    Column("target", Text),
    Column("detail", Payload),
    Column("ip", String(64)),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),  # import
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("params", Payload, nullable=False),
    Column("progress", Payload),
    Column("result", Payload),
    Column("error", Text),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    # which worker process claimed it: a crashed worker's jobs are found and retried
    Column("worker", String(128)),
    Index(None, "status", "id"),
)

# ---------------------------------------------------------------- live groups

connector_state = Table(
    "connector_state",
    metadata,
    # a connector's position (sync token, update offset), written in the same
    # transaction as the events it covers so a restart neither skips nor repeats
    Column("connector", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    # draft | scheduled | running | paused | cancelled | done
    Column("status", String(16), nullable=False),
    Column("content", Payload, nullable=False),  # text, format, image, buttons
    Column("selector", Payload, nullable=False),  # names, tags, platforms, group ids
    Column("variables", Payload),  # per-group values: {group_id: {name: value}}
    # local wall-clock time to send at, in each group's own zone (None: at once)
    Column("send_at_local", String(32)),
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    # the idempotency key: one row per key, ever; a retried decision finds its row
    Column("key", String(255), nullable=False, unique=True),
    Column("connector", String(64), nullable=False),
    Column("chat", String(255), nullable=False),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="SET NULL")),
    Column("kind", String(32), nullable=False),
    # 0 moderation, 1 replies, 2 broadcasts: lower goes first
    Column("priority", Integer, nullable=False),
    Column("action", Payload, nullable=False),
    # held | queued | claimed | sending | sent | dead | unknown | skipped | cancelled
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("not_before", UtcDateTime, nullable=False),
    Column("claimed_by", String(128)),
    Column("claimed_at", UtcDateTime),
    Column("remote_id", Text),
    Column("error_code", String(64)),
    Column("error", Text),
    Column("cause", Text),  # what decided it: "broadcast:3", "rule:7 event:91", "user:2"
    Column("broadcast_id", Integer, ForeignKey("broadcasts.id", ondelete="CASCADE")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Index(None, "status", "priority", "not_before", "id"),
    Index(None, "broadcast_id", "status"),
)

rate_buckets = Table(
    "rate_buckets",
    metadata,
    # one limit's sliding window ("tg-main:bot:0", "tg-main:chat:-100123:0"): the
    # Unix times of the calls still inside it, as a JSON list. Shared by every
    # worker so that several processes together still keep a platform's limits.
    Column("bucket", String(320), primary_key=True),
    Column("sent", Text, nullable=False),
)

group_tags = Table(
    "group_tags",
    metadata,
    # an operator's labels on groups ("课程A", "vip"): broadcasts and reports pick by them
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(64), primary_key=True),
    Index(None, "tag"),
)
