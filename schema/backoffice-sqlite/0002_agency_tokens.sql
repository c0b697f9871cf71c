-- Agencies call the agency API with credentials of their own, each good for one agency only.
-- Only the SHA-256 hash of a credential is kept, as for devices.
CREATE TABLE agency_tokens (
    token_hash TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    issued_at TEXT NOT NULL
);
