-- pgbench -f read.sql -D users=N: one home timeline, 50 newest posts of everyone the user follows.
\set uid random(0, :users - 1)
SELECT p.id, p.author_id, p.created_at, p.body
FROM follows f JOIN posts p ON p.author_id = f.followee_id
WHERE f.follower_id = :uid
ORDER BY p.created_at DESC
LIMIT 50;
