"""FeedClient: feed-server's commands as typed methods, on redis-py."""

from __future__ import annotations

from typing import Any, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

import redis
from redis.cluster import ClusterNode, RedisCluster

from . import _commands as _c
from ._commands import Call, PostID
from ._errors import translate
from ._types import Entry, FeedEvent, NotificationGroup, RankedPage, Stats

T = TypeVar("T")


class FeedClient:
    """A blocking client. Pass redis-py's connection options (host, port,
    password, protocol, …) or an existing ``redis.Redis`` as ``client``; or,
    for a cluster (``--cluster yes`` nodes), some of its nodes as ``nodes``
    ([(host, port), …]): commands then go through redis-py's RedisCluster,
    each to the node that serves its user. Error replies raise the
    exceptions of ``feedclient`` (Err, TryAgain, …)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 6380, *, client: Optional["redis.Redis"] = None,
        nodes: Optional[Sequence[Tuple[str, int]]] = None, **options: Any,
    ) -> None:
        self.redis: Union["redis.Redis", RedisCluster]
        if nodes:
            self.redis = RedisCluster(
                startup_nodes=[ClusterNode(node_host, node_port) for node_host, node_port in nodes],  # type: ignore[no-untyped-call]
                decode_responses=True, **options)
        else:
            self.redis = client if client is not None else redis.Redis(host=host, port=port, decode_responses=True, **options)

    def _run(self, call: Call[T]) -> T:
        try:
            return call.parse(self.redis.execute_command(*call.args))  # type: ignore[no-untyped-call]
        except redis.RedisError as error:
            raise translate(error) from error

    def post(self, author: str, body: str, reply_to: Optional[PostID] = None) -> str:
        """Publishes a post (with reply_to, a reply); its id."""
        return self._run(_c.post(author, body, reply_to))

    def repost(self, user: str, post_id: PostID) -> str:
        """Reposts a post; the repost's id (reposting twice gives the first)."""
        return self._run(_c.repost(user, post_id))

    def unrepost(self, user: str, post_id: PostID) -> bool:
        """Takes a repost back; whether there was one."""
        return self._run(_c.unrepost(user, post_id))

    def delete(self, author: str, post_id: PostID) -> bool:
        """Deletes the author's post from every feed."""
        return self._run(_c.delete(author, post_id))

    def follow(self, follower: str, followee: str, noreposts: bool = False) -> bool:
        """Follows; whether it is new. noreposts hides the followee's reposts."""
        return self._run(_c.follow(follower, followee, noreposts))

    def unfollow(self, follower: str, followee: str) -> bool:
        """Unfollows; whether there was a follow."""
        return self._run(_c.unfollow(follower, followee))

    def read(self, user: str, count: Optional[int] = None, before: Optional[PostID] = None, after: Optional[PostID] = None, meta: bool = False) -> List[Entry]:
        """The feed, newest first (with after: newer than it, oldest first)."""
        return self._run(_c.read(user, count, before, after, meta))

    def read_ranked(self, user: str, count: Optional[int] = None, page: Optional[str] = None) -> RankedPage:
        """A page of the ranked feed, best first, with scores; page=RankedPage.next for the next."""
        return self._run(_c.read_ranked(user, count, page))

    def posts(self, author: str, count: Optional[int] = None, before: Optional[PostID] = None, meta: bool = False) -> List[Entry]:
        """The author's own entries, newest first."""
        return self._run(_c.posts(author, count, before, meta))

    def get(self, *ids: PostID, meta: bool = False) -> List[Optional[Entry]]:
        """Each post, or None where it does not exist."""
        return self._run(_c.get(ids, meta))

    def replies(self, post_id: PostID, count: Optional[int] = None, before: Optional[PostID] = None) -> List[Entry]:
        """A post's replies, newest first."""
        return self._run(_c.replies(post_id, count, before))

    def like(self, user: str, post_id: PostID) -> int:
        """Likes a post; its like count."""
        return self._run(_c.like(user, post_id, True))

    def unlike(self, user: str, post_id: PostID) -> int:
        """Takes a like back; the post's like count."""
        return self._run(_c.like(user, post_id, False))

    def stats(self, user: str) -> Stats:
        """Followers, following, posts, timeline size, celebrity, unseen and unread notification groups."""
        return self._run(_c.user_stats(user))

    def notifications(self, user: str, count: Optional[int] = None, before: Optional[str] = None) -> List[NotificationGroup]:
        """The user's notification groups, newest-updated first; page with before=the last group's id."""
        return self._run(_c.notifications(user, count, before))

    def mark_seen(self, user: str) -> int:
        """Marks every notification group seen; how many shown groups were not."""
        return self._run(_c.mark_seen(user))

    def mark_read(self, user: str, *group_ids: str) -> int:
        """Marks the groups read; how many shown groups were not."""
        return self._run(_c.mark_read(user, group_ids))

    def followers(self, user: str, count: Optional[int] = None, after: Optional[str] = None) -> List[str]:
        """Who follows the user; page with after=the last one."""
        return self._run(_c.users("FEED.FOLLOWERS", user, count, after))

    def following(self, user: str, count: Optional[int] = None, after: Optional[str] = None) -> List[str]:
        """Whom the user follows."""
        return self._run(_c.users("FEED.FOLLOWING", user, count, after))

    def mute(self, user: str, target: str) -> bool:
        """Mutes; whether it changed anything."""
        return self._run(_c.pair("FEED.MUTE", user, target))

    def unmute(self, user: str, target: str) -> bool:
        """Unmutes."""
        return self._run(_c.pair("FEED.UNMUTE", user, target))

    def block(self, user: str, target: str) -> bool:
        """Blocks (follows both ways go)."""
        return self._run(_c.pair("FEED.BLOCK", user, target))

    def unblock(self, user: str, target: str) -> bool:
        """Unblocks."""
        return self._run(_c.pair("FEED.UNBLOCK", user, target))

    def mutes(self, user: str, count: Optional[int] = None, after: Optional[str] = None) -> List[str]:
        """Whom the user mutes."""
        return self._run(_c.users("FEED.MUTES", user, count, after))

    def blocks(self, user: str, count: Optional[int] = None, after: Optional[str] = None) -> List[str]:
        """Whom the user blocks."""
        return self._run(_c.users("FEED.BLOCKS", user, count, after))

    def token(self, user: str, ttl_seconds: Optional[int] = None) -> str:
        """A token for the user's browser event stream."""
        return self._run(_c.token(user, ttl_seconds))

    def sync(self, timeout_ms: Optional[int] = None) -> None:
        """Returns once every write acknowledged before it is in PostgreSQL.
        With several nodes, FEED.SYNC goes to every node, twice round: then
        every node's feeds also reflect every write acknowledged before it,
        whichever node took it."""
        if not isinstance(self.redis, RedisCluster):
            return self._run(_c.sync(timeout_ms))
        call = _c.sync(timeout_ms)
        nodes = self.redis.get_nodes()  # type: ignore[no-untyped-call]
        try:
            for _ in range(2):
                for node in nodes:
                    call.parse(self.redis.execute_command(*call.args, target_nodes=node))  # type: ignore[no-untyped-call]
        except redis.RedisError as error:
            raise translate(error) from error
        return None

    def subscribe(self, user: str) -> Iterator[FeedEvent]:
        """The events of the user's feed as they happen (``feed:<user>``), until the iterator is closed."""
        if isinstance(self.redis, RedisCluster):
            # A user's events are published on the node that serves the user.
            node = self.redis.get_node_from_key(user)  # type: ignore[no-untyped-call]
            pubsub = self.redis.pubsub(node=node, ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        else:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        pubsub.subscribe(f"feed:{user}")
        try:
            for message in pubsub.listen():
                if message.get("type") == "message":
                    yield FeedEvent.parse(str(message["data"]))
        finally:
            pubsub.close()

    def close(self) -> None:
        self.redis.close()
