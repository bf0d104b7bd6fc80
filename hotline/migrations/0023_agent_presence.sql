-- Agent presence follows the live connection (docs/console.md, "Agent presence").

-- A web process while it runs: it renews seen_at every heartbeat. A process silent for
-- three heartbeats is taken as dead (crashed, killed) and its connections with it.
CREATE TABLE live_processes (
    id       text PRIMARY KEY,
    seen_at  timestamptz NOT NULL
);

-- The open socket.io connections of call takers, one row each, by process.
CREATE TABLE live_connections (
    process_id    text NOT NULL REFERENCES live_processes (id) ON DELETE CASCADE,
    sid           text NOT NULL,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    connected_at  timestamptz NOT NULL,
    PRIMARY KEY (process_id, sid)
);
CREATE INDEX live_connections_user_idx ON live_connections (user_id);

-- When the sweep first found an agent who is not offline without any live connection;
-- null while connected. Past the grace period the agent is set offline.
ALTER TABLE agent_status ADD COLUMN away_since timestamptz;
