-- A reader's interest in an author for the ranked feed: their likes,
-- replies and reposts of the author's posts, each decayed by the affinity
-- half-life, as of at_ms (docs/adr/0013-ranked-feed.md). At most
-- --rank-affinity-authors rows per reader: the server deletes the weakest
-- when a reader's table is full.
CREATE TABLE affinity (
    user_id     bigint           NOT NULL,
    author_id   bigint           NOT NULL,
    likes       double precision NOT NULL,
    replies     double precision NOT NULL,
    reposts     double precision NOT NULL,
    at_ms       bigint           NOT NULL,
    PRIMARY KEY (user_id, author_id)
);
