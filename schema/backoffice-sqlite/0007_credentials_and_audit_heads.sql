-- Credentials with a life, refusals counted, and each device's audit chain head held centrally.

-- A rotated device credential: the previous one stays valid until the new one is first used,
-- so a rotation whose answer was lost leaves the device able to sync.
ALTER TABLE devices ADD COLUMN previous_token_hash TEXT;
CREATE UNIQUE INDEX devices_by_previous_token ON devices (previous_token_hash);

-- Agency credentials get a public id (the first 12 hex digits of their hash: it names the
-- credential in listings without revealing it), an expiry and a revocation. Credentials issued
-- before this migration expire 90 days after it.
ALTER TABLE agency_tokens ADD COLUMN id TEXT;
ALTER TABLE agency_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE agency_tokens ADD COLUMN revoked_at TEXT;
UPDATE agency_tokens SET id = substr(token_hash, 1, 12),
    expires_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '+90 days');
CREATE UNIQUE INDEX agency_tokens_by_id ON agency_tokens (id);

-- The head of each device's audit chain the back office last accepted, and the flag raised
-- when the device's trail stopped extending it (cut short or rewritten). A flag stays until
-- an administrator revokes the device.
CREATE TABLE device_audit (
    device TEXT PRIMARY KEY REFERENCES devices (code),
    head_seq INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    flagged_at TEXT,
    flag TEXT
);

-- Refused credentials and other security refusals, by kind, for the fleet's health. The
-- credential itself is never kept.
CREATE TABLE security_refusals (
    kind TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    last_at TEXT NOT NULL
);
