-- pgbench -f post.sql -D users=N: a post is one insert; all the work is on read.
\set uid random(0, :users - 1)
INSERT INTO posts (author_id, body) VALUES (:uid, repeat('b', 110));
