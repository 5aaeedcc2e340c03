-- The naive pull baseline: the feed computed by a query on every read, with
-- the indexes that query wants. bench/run-all loads the same graph as the
-- other targets (feed-bench setup --csv) and POSTS_PER_USER posts per user.
CREATE TABLE follows (
    follower_id integer NOT NULL,
    followee_id integer NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);
CREATE TABLE posts (
    id bigserial PRIMARY KEY,
    author_id integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    body text NOT NULL
);
