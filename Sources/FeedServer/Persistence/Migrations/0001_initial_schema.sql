-- There are no foreign keys: the server is the only writer, and its journal
-- writes a user before anything that names them, in one ordered stream of
-- transactions. A foreign key check nearly doubled the cost of inserting a
-- post (2.13 s against 1.18 s for 300,000 rows; docs/adr/0006).

-- Users, by the dense number the engine gives them on first sight. Numbers
-- are assigned in order and never reused, so they are the primary key.
CREATE TABLE users (
    id          integer     PRIMARY KEY,
    name        text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Who follows whom. The composite primary key makes a follow unique and
-- answers "whom does X follow"; the second index answers "who follows X".
CREATE TABLE follows (
    follower_id integer     NOT NULL,
    followee_id integer     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX follows_followee_idx ON follows (followee_id, follower_id);

-- Posts. The id is time-ordered (Snowflake), so "an author's newest posts"
-- and "posts older than X" are both walks of (author_id, id DESC).
-- A deleted post keeps its row, with deleted_at set.
CREATE TABLE posts (
    id          bigint      PRIMARY KEY,
    author_id   integer     NOT NULL,
    body        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    deleted_at  timestamptz
);
CREATE INDEX posts_author_id_idx ON posts (author_id, id DESC);

-- Likes: one per user and post.
CREATE TABLE likes (
    post_id     bigint      NOT NULL,
    user_id     integer     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, user_id)
);
