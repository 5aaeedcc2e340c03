"""feedclient: a typed Python client for feed-server, on redis-py.

    from feedclient import FeedClient
    feed = FeedClient(port=6380)
    feed.follow("bob", "alice")
    feed.post("alice", "hello")
    for entry in feed.read("bob"):
        print(entry.id, entry.author, entry.body)
"""

from ._async import AsyncFeedClient
from ._client import FeedClient
from ._errors import Err, FeedServerError, NoAuth, Oom, Timeout, TryAgain, WrongPass
from ._types import Entry, FeedEvent, NotificationGroup, RankedPage, Stats

__all__ = [
    "AsyncFeedClient", "Entry", "Err", "FeedClient", "FeedEvent", "FeedServerError", "NoAuth", "NotificationGroup", "Oom",
    "RankedPage", "Stats",
    "Timeout", "TryAgain", "WrongPass",
]
