"""The README's feedclient session (but its endless subscribe loop), runnable."""
import os

from feedclient import FeedClient, Err

feed = FeedClient(port=int(os.environ.get("FEED_PORT", "6380")))
feed.follow("bob", "alice")
post_id = feed.post("alice", "hello from feedclient")
for entry in feed.read("bob", count=10):
    print(entry.id, entry.author, entry.body)
page = feed.read_ranked("bob", count=10)
print("ranked:", [(entry.id, round(entry.score or 0, 3)) for entry in page.entries], "next:", page.next)
try:
    feed.like("bob", "12345")
except Err as error:
    print("Err:", error)
