"""The randomized model test, end to end: thousands of random follow,
unfollow, post, delete and read operations through redis-py against a
server with a celebrity threshold of 5 (so authors cross it both ways) and
a short inactivity window (so timelines are dropped and rebuilt), checked
against a reference that recomputes every feed from scratch."""

import random
import time

import pytest


class Reference:
    def __init__(self):
        self.follows = set()
        self.posts = {}  # id -> (author, body)

    def feed(self, user):
        return sorted(
            (post for post, (author, _) in self.posts.items() if author == user or (user, author) in self.follows),
            reverse=True,
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_operations_match_the_reference(start_server, seed):
    server = start_server("--celebrity-threshold", "5", "--inactive-after", "150ms")
    client = server.client(decode_responses=True)
    rng = random.Random(seed)
    model = Reference()
    users = [f"user:{index}" for index in range(12)]
    crossed_up = crossed_down = 0

    for step in range(1200):
        if step % 300 == 299:
            time.sleep(0.2)  # everyone goes inactive: their timelines drop at the next fan-out
        user, other = rng.choice(users), rng.choice(users)
        roll = rng.random()
        if roll < 0.20:
            if user == other:
                continue
            was = client.execute_command("FEED.STATS", other)["celebrity"]
            changed = client.execute_command("FEED.FOLLOW", user, other)
            assert changed == (0 if (user, other) in model.follows else 1), step
            model.follows.add((user, other))
            crossed_up += int(not was and client.execute_command("FEED.STATS", other)["celebrity"])
        elif roll < 0.40:
            if user == other:
                continue
            was = client.execute_command("FEED.STATS", other)["celebrity"]
            changed = client.execute_command("FEED.UNFOLLOW", user, other)
            assert changed == (1 if (user, other) in model.follows else 0), step
            model.follows.discard((user, other))
            crossed_down += int(was and not client.execute_command("FEED.STATS", other)["celebrity"])
        elif roll < 0.70:
            body = f"post {step} by {user}"
            model.posts[client.execute_command("FEED.POST", user, body)] = (user, body)
        elif roll < 0.78:
            mine = [post for post, (author, _) in model.posts.items() if author == user]
            pool = mine if mine and rng.random() < 0.5 else list(model.posts)
            if not pool:
                continue
            victim = rng.choice(pool)
            deleted = client.execute_command("FEED.DELETE", user, victim)
            assert deleted == (1 if model.posts[victim][0] == user else 0), step
            if deleted:
                del model.posts[victim]
        else:
            expected = model.feed(user)
            count = rng.randint(1, 60)
            before = rng.choice(expected) if expected and rng.random() < 0.5 else None
            args = ["FEED.READ", user, "COUNT", count] + (["BEFORE", before] if before else [])
            entries = client.execute_command(*args)
            wanted = [post for post in expected if before is None or post < before][:count]
            assert [entry[0] for entry in entries] == wanted, (step, user, count, before)
            for post, author, _, body in entries:
                assert (author, body) == model.posts[post]

    for user in users:
        assert [entry[0] for entry in client.execute_command("FEED.READ", user, "COUNT", 500)] == model.feed(user)
    assert crossed_up > 0 and crossed_down > 0
    info = client.info("feed")
    # Every path was taken: push, pull, dropped and rebuilt timelines.
    assert info["fanout_deliveries"] > 0 and info["fanouts_skipped_celebrity"] > 0
    assert info["reads_with_celebrity_merge"] > 0
    assert info["timelines_dropped"] > 0 and info["timeline_rebuilds"] > len(users)
