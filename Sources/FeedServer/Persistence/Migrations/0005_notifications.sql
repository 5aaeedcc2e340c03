-- Notification feeds (docs/adr/0014-notifications.md). One row per action
-- that put an actor in a user's group (verb 0 like, 1 repost, 2 reply,
-- 3 follow, 4 mention; object the post, 0 for follows; day the UTC day).
-- source is the repost or reply that notified, 0 otherwise; ord is the
-- action's place in the server's order of notifications, which orders
-- groups and actors and decides seen and read against the marks below.
CREATE TABLE notifications (
    user_id   bigint   NOT NULL,
    verb      smallint NOT NULL,
    object    bigint   NOT NULL,
    day       integer  NOT NULL,
    actor_id  bigint   NOT NULL,
    source    bigint   NOT NULL,
    at_ms     bigint   NOT NULL,
    ord       bigint   NOT NULL,
    PRIMARY KEY (user_id, verb, object, day, actor_id, source)
);

-- FEED.MARK READ: a group is read as of ord.
CREATE TABLE notification_reads (
    user_id   bigint   NOT NULL,
    verb      smallint NOT NULL,
    object    bigint   NOT NULL,
    day       integer  NOT NULL,
    ord       bigint   NOT NULL,
    PRIMARY KEY (user_id, verb, object, day)
);

-- FEED.MARK SEEN: a user's groups are seen as of ord.
CREATE TABLE notification_seen (
    user_id   bigint PRIMARY KEY,
    ord       bigint NOT NULL
);
