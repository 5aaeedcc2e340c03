"""What feed-server's replies become: frozen dataclasses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional


@dataclass(frozen=True)
class Entry:
    """One feed entry. Ids are decimal strings (exact in every language).

    For a repost, ``id`` and ``author`` are the repost's (its id, the
    reposter) and ``body`` is the original's; with metadata, ``repost_of``
    and ``original_author`` say what it reposts, and ``created_ms`` and the
    counts are the original's. A ranked read fills ``score`` and its factors."""

    id: str
    author: str
    created_ms: int
    body: Optional[str]
    likes: Optional[int] = None
    replies: Optional[int] = None
    reposts: Optional[int] = None
    reply_to: Optional[str] = None
    repost_of: Optional[str] = None
    original_author: Optional[str] = None
    score: Optional[float] = None
    recency: Optional[float] = None
    affinity: Optional[float] = None
    engagement: Optional[float] = None
    diversity: Optional[float] = None


@dataclass(frozen=True)
class RankedPage:
    """A page of the ranked feed; ``next`` is the PAGE token of the next one (None: the last)."""

    entries: List[Entry]
    next: Optional[str]


@dataclass(frozen=True)
class Stats:
    followers: int
    following: int
    posts: int
    timeline: int
    celebrity: bool
    unseen: int = 0
    unread: int = 0


@dataclass(frozen=True)
class NotificationGroup:
    """A notification group: ``verb`` (like, repost, reply, follow, mention)
    on ``object`` (a post id; None for follows) by ``actors`` (the newest
    five, newest first) of ``actor_count`` in all. ``id`` goes back to
    FeedClient.mark_read and as notifications(before=...)."""

    id: str
    verb: str
    object: Optional[str]
    actors: List[str]
    actor_count: int
    updated_ms: int
    seen: bool
    read: bool


@dataclass(frozen=True)
class FeedEvent:
    """A message of a ``feed:<user>`` channel: a post that landed in the feed, or a delete."""

    event: str
    id: str
    author: Optional[str] = None
    ts: Optional[int] = None
    body: Optional[str] = None

    @staticmethod
    def parse(payload: str) -> FeedEvent:
        data = json.loads(payload)
        return FeedEvent(
            event=str(data["event"]), id=str(data["id"]), author=data.get("author"), ts=data.get("ts"), body=data.get("body"))


def as_map(value: Any) -> Dict[str, Any]:
    """A map reply: a dict in RESP3, field/value pairs in RESP2."""
    if isinstance(value, dict):
        return {str(key): item for key, item in value.items()}
    items = list(value)
    return {str(items[index]): items[index + 1] for index in range(0, len(items), 2)}


def _float(value: Any) -> Optional[float]:
    return None if value is None else float(value)


def entry(value: Any) -> Entry:
    """A plain ``[id, author, created_ms, body]`` entry or a WITHMETA map."""
    if isinstance(value, (list, tuple)) and len(value) == 4:  # a WITHMETA entry has 20 or 30 items in RESP2
        return Entry(id=str(value[0]), author=str(value[1]), created_ms=int(value[2]), body=value[3])
    fields = as_map(value)
    repost = fields.get("repost_of") is not None
    return Entry(
        id=str(fields["id"]),
        author=str(fields["reposted_by"] if repost else fields["author"]),
        created_ms=int(fields["ts"]),
        body=fields.get("body"),
        likes=int(fields["likes"]),
        replies=int(fields["replies"]),
        reposts=int(fields["reposts"]),
        reply_to=fields.get("reply_to"),
        repost_of=fields.get("repost_of"),
        original_author=str(fields["author"]) if repost else None,
        score=_float(fields.get("score")),
        recency=_float(fields.get("recency")),
        affinity=_float(fields.get("affinity")),
        engagement=_float(fields.get("engagement")),
        diversity=_float(fields.get("diversity")),
    )


def stats(value: Any) -> Stats:
    fields = as_map(value)
    return Stats(
        followers=int(fields["followers"]), following=int(fields["following"]), posts=int(fields["posts"]),
        timeline=int(fields["timeline"]), celebrity=bool(int(fields["celebrity"])),
        unseen=int(fields.get("unseen", 0)), unread=int(fields.get("unread", 0)))


def notification_group(value: Any) -> NotificationGroup:
    fields = as_map(value)
    return NotificationGroup(
        id=str(fields["id"]), verb=str(fields["verb"]), object=None if fields["object"] is None else str(fields["object"]),
        actors=[str(actor) for actor in fields["actors"]], actor_count=int(fields["actor_count"]),
        updated_ms=int(fields["updated_ms"]), seen=bool(int(fields["seen"])), read=bool(int(fields["read"])))
