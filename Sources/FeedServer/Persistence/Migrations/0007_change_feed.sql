-- The change feed between cluster nodes (docs/adr/0015-cluster.md): each
-- journal batch a node commits carries, in the same transaction, the actions
-- other nodes need (posts, deletes, follows, likes, repost settings, mutes,
-- blocks, and the notifications those made), so a committed write is never
-- missing from it. Positions are
-- taken under a transaction-level advisory lock held until commit, so they
-- become visible in order and a reader past position n never misses one
-- below it. Each node records how far it has applied; rows every node has
-- applied are trimmed.
CREATE TABLE cluster_changes (
    position  bigserial PRIMARY KEY,
    node      integer   NOT NULL,
    at_ms     bigint    NOT NULL,
    payload   bytea     NOT NULL
);

ALTER TABLE cluster_nodes ADD COLUMN applied bigint NOT NULL DEFAULT 0;
