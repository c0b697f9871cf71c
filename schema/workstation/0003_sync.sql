-- The link to a back office, once this workstation is enrolled. The credential itself is not
-- here: it lives in a file of its own, readable only by its owner.
CREATE TABLE sync_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    server_url    TEXT NOT NULL,
    cursor        INTEGER NOT NULL DEFAULT 0,
    last_attempt  TEXT,
    last_success  TEXT,
    last_error    TEXT
);

-- Decisions and other devices' changes arrive with their own party; the timeline says whose.
CREATE INDEX outbox_by_entity ON outbox (entity_id, seq);
