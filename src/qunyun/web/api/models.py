"""Request and response bodies of the API (what the OpenAPI document promises)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, Field, field_validator

from qunyun.web.deps import NOT_STORABLE, storable

RoleName = Literal["owner", "admin", "operator", "viewer"]

#: the largest id of a user, token, job, member or group: their columns are INTEGER
#: (32 bits on PostgreSQL). Bigger numbers, and offsets beyond 64 bits, are refused
#: as invalid (422) instead of overflowing the database driver (500).
MAX_ID = 2**31 - 1
MAX_OFFSET = 2**63 - 1
GroupId = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


class Body(BaseModel):
    """A request body: no text in it may hold what the store cannot (NUL, lone surrogates)."""

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and not storable(item):
                raise ValueError(NOT_STORABLE)
        return value


class LoginIn(Body):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    id: int
    name: str
    role: RoleName
    all_groups: bool
    group_ids: list[int]
    lang: str | None
    disabled: bool
    created_at: str


class LoginOut(BaseModel):
    user: UserOut
    csrf: str


class UserIn(Body):
    name: str = Field(min_length=2, max_length=64)
    role: RoleName
    password: str | None = Field(default=None, min_length=10, max_length=1024)
    group_ids: list[GroupId] = Field(default_factory=list)
    all_groups: bool = False


class UserCreated(BaseModel):
    user: UserOut
    password: str | None = Field(
        description="the generated password, shown only in this response (null if you set one)"
    )


class UserPatch(Body):
    role: RoleName | None = None
    group_ids: list[GroupId] | None = None
    all_groups: bool | None = None
    disabled: bool | None = None


class PasswordIn(Body):
    new: str = Field(min_length=10, max_length=1024)
    old: str | None = Field(default=None, max_length=1024)


class LangIn(Body):
    lang: Literal["zh", "en"] | None


class TokenIn(Body):
    name: str = Field(default="token", min_length=1, max_length=128)
    user: str | None = Field(default=None, description="user name (admins only; default: you)")


class TokenOut(BaseModel):
    id: int
    name: str
    user: str
    created_at: str
    last_used_at: str | None
    revoked: bool
    revoked_at: str | None


class TokenCreated(BaseModel):
    token: TokenOut
    secret: str = Field(description="the token, shown only in this response")


class SettingsIn(Body):
    tz: str | None = Field(default=None, max_length=64)
    lang: Literal["auto", "zh", "en"] | None = None


class SettingsOut(BaseModel):
    tz: str
    lang: str


class Page(BaseModel):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class JobOut(BaseModel):
    id: int
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    params: dict[str, Any]
    progress: dict[str, Any] | None
    result: dict[str, Any] | None
    error: str | None
    created_by: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None


class DemoIn(Body):
    groups: int = Field(default=20, ge=1, le=200)
    members: int = Field(default=3000, ge=10, le=50_000)
    days: int = Field(default=180, ge=14, le=730)
    seed: int = Field(default=0, ge=0, le=1_000_000)
