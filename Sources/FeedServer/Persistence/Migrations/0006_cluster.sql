-- Cluster membership and the slot map (docs/adr/0015-cluster.md): the nodes
-- share this database, and it is how they agree on who owns which of Redis
-- Cluster's 16,384 hash slots. A node registers itself by its address when
-- it starts in cluster mode; CLUSTER MEET marks both sides joined; CLUSTER
-- ADDSLOTS claims slots. Every change bumps cluster_version, which each node
-- polls to know when to reload.
CREATE TABLE cluster_nodes (
    id            text    PRIMARY KEY,
    host          text    NOT NULL,
    port          integer NOT NULL,
    config_epoch  bigint  NOT NULL DEFAULT 0,
    joined        boolean NOT NULL DEFAULT false,
    -- The node's number in post ids (0-1023), given in order of registration.
    number        integer NOT NULL UNIQUE CHECK (number >= 0 AND number < 1024),
    UNIQUE (host, port)
);

CREATE TABLE cluster_slots (
    slot     integer PRIMARY KEY CHECK (slot >= 0 AND slot < 16384),
    node_id  text    NOT NULL REFERENCES cluster_nodes (id)
);

CREATE TABLE cluster_version (
    one      integer PRIMARY KEY CHECK (one = 1),
    version  bigint  NOT NULL
);

INSERT INTO cluster_version (one, version) VALUES (1, 0);
