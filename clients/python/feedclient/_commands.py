"""Each FEED command as its arguments and the parser of its reply, shared
by the blocking and the asyncio client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, List, Optional, Sequence, TypeVar, Union

from ._types import Entry, NotificationGroup, RankedPage, Stats, entry, notification_group, stats

T = TypeVar("T")
PostID = Union[str, int]


@dataclass(frozen=True)
class Call(Generic[T]):
    args: List[Union[str, int]]
    parse: Callable[[Any], T]


def _a(*parts: Union[str, int]) -> List[Union[str, int]]:
    """An argument list."""
    return list(parts)


def _text(value: Any) -> str:
    return str(value)


def _flag(value: Any) -> bool:
    return bool(int(value))


def _int(value: Any) -> int:
    return int(value)


def _entries(value: Any) -> List[Entry]:
    return [entry(item) for item in value]


def _names(value: Any) -> List[str]:
    return [str(item) for item in value]


def _none(value: Any) -> None:
    return None


def _page(options: Sequence[Union[str, int, None]]) -> List[Union[str, int]]:
    """Options given in pairs (name, value), the unset ones left out."""
    out: List[Union[str, int]] = []
    for index in range(0, len(options), 2):
        value = options[index + 1]
        if value is not None:
            name = options[index]
            assert name is not None
            out += [name, value]
    return out


def post(author: str, body: str, reply_to: Optional[PostID]) -> Call[str]:
    return Call(_a("FEED.POST", author, body) + (_a() if reply_to is None else _a("REPLYTO", reply_to)), _text)


def repost(user: str, post_id: PostID) -> Call[str]:
    return Call(_a("FEED.REPOST", user, post_id), _text)


def unrepost(user: str, post_id: PostID) -> Call[bool]:
    return Call(_a("FEED.UNREPOST", user, post_id), _flag)


def delete(author: str, post_id: PostID) -> Call[bool]:
    return Call(_a("FEED.DELETE", author, post_id), _flag)


def follow(follower: str, followee: str, noreposts: bool) -> Call[bool]:
    return Call(_a("FEED.FOLLOW", follower, followee) + (_a("NOREPOSTS") if noreposts else _a()), _flag)


def unfollow(follower: str, followee: str) -> Call[bool]:
    return Call(_a("FEED.UNFOLLOW", follower, followee), _flag)


def read(user: str, count: Optional[int], before: Optional[PostID], after: Optional[PostID], meta: bool) -> Call[List[Entry]]:
    args = _a("FEED.READ", user) + _page(["COUNT", count, "BEFORE", before, "AFTER", after])
    return Call(args + (_a("WITHMETA") if meta else _a()), _entries)


def read_ranked(user: str, count: Optional[int], page: Optional[str]) -> Call[RankedPage]:
    def parse(value: Any) -> RankedPage:
        token, entries = value
        return RankedPage(entries=_entries(entries), next=None if str(token) == "0" else str(token))

    return Call(_a("FEED.READ", user, "RANKED") + _page(["COUNT", count, "PAGE", page]) + _a("WITHMETA"), parse)


def posts(author: str, count: Optional[int], before: Optional[PostID], meta: bool) -> Call[List[Entry]]:
    return Call(_a("FEED.POSTS", author) + _page(["COUNT", count, "BEFORE", before]) + (_a("WITHMETA") if meta else _a()), _entries)


def get(ids: Sequence[PostID], meta: bool) -> Call[List[Optional[Entry]]]:
    def parse(value: Any) -> List[Optional[Entry]]:
        return [None if item is None else entry(item) for item in value]

    return Call(_a("FEED.GET", *ids) + (_a("WITHMETA") if meta else _a()), parse)


def replies(post_id: PostID, count: Optional[int], before: Optional[PostID]) -> Call[List[Entry]]:
    return Call(_a("FEED.REPLIES", post_id) + _page(["COUNT", count, "BEFORE", before]) + _a("WITHMETA"), _entries)


def like(user: str, post_id: PostID, liking: bool) -> Call[int]:
    return Call(_a("FEED.LIKE" if liking else "FEED.UNLIKE", user, post_id), _int)


def user_stats(user: str) -> Call[Stats]:
    return Call(_a("FEED.STATS", user), stats)


def notifications(user: str, count: Optional[int], before: Optional[str]) -> Call[List[NotificationGroup]]:
    def parse(value: Any) -> List[NotificationGroup]:
        return [notification_group(item) for item in value]

    return Call(_a("FEED.NOTIFICATIONS", user) + _page(["COUNT", count, "BEFORE", before]), parse)


def mark_seen(user: str) -> Call[int]:
    return Call(_a("FEED.MARK", user, "SEEN"), _int)


def mark_read(user: str, group_ids: Sequence[str]) -> Call[int]:
    return Call(_a("FEED.MARK", user, "READ", *group_ids), _int)


def users(command: str, user: str, count: Optional[int], after: Optional[str]) -> Call[List[str]]:
    return Call(_a(command, user) + _page(["COUNT", count, "AFTER", after]), _names)


def pair(command: str, user: str, target: str) -> Call[bool]:
    return Call(_a(command, user, target), _flag)


def token(user: str, ttl_seconds: Optional[int]) -> Call[str]:
    return Call(_a("FEED.TOKEN", user) + (_a() if ttl_seconds is None else _a(ttl_seconds)), _text)


def sync(timeout_ms: Optional[int]) -> Call[None]:
    return Call(_a("FEED.SYNC") + (_a() if timeout_ms is None else _a(timeout_ms)), _none)
