-- Replies and reposts are posts that point at another post: kind 1 replies
-- to link_id, kind 2 reposts it (its body is empty: it shows the
-- original's). link_author_id is that post's author, so a read can filter
-- by it without a second lookup (docs/adr/0012-reposts-replies-filters.md).
ALTER TABLE posts ADD COLUMN kind smallint NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN link_id bigint;
ALTER TABLE posts ADD COLUMN link_author_id bigint;
-- A post's replies and reposts, newest first (FEED.REPLIES, counts, deleting a post's reposts).
CREATE INDEX posts_link_idx ON posts (link_id, kind, id DESC) WHERE link_id IS NOT NULL;

-- A follow that hides the followee's reposts (FEED.FOLLOW … NOREPOSTS).
ALTER TABLE follows ADD COLUMN hide_reposts boolean NOT NULL DEFAULT false;

CREATE TABLE mutes (
    user_id     bigint      NOT NULL,
    target_id   bigint      NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, target_id)
);

CREATE TABLE blocks (
    user_id     bigint      NOT NULL,
    target_id   bigint      NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, target_id)
);
