-- After `\copy follows FROM graph.csv WITH (FORMAT csv)`:
-- psql -v users=N -v posts_per_user=K -f load.sql
INSERT INTO posts (author_id, created_at, body)
SELECT (n % :users), now() - (n * interval '1 second'), repeat('b', 110)
FROM generate_series(1, :users * :posts_per_user) AS n;
CREATE INDEX posts_author_created ON posts (author_id, created_at DESC);
ANALYZE;
