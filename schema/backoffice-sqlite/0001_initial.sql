-- The back office's first schema (SQLite). Migrations are only ever added, never edited.
-- Timestamps are RFC 3339 text in UTC; JSON columns hold the domain's own serde forms.

CREATE TABLE centers (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('stationary', 'mobile', 'kiosk')),
    -- The last sequence number of this centre's change log: bumping it serialises every writer
    -- of the centre, so sequences become visible in order and a pull cursor never skips one.
    log_seq INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE catalogue_versions (
    version INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    published_at TEXT NOT NULL
);

CREATE TABLE catalogue_services (
    version INTEGER NOT NULL REFERENCES catalogue_versions (version),
    code TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (version, code)
);

-- One row: receipt prefixes come from this counter so no two devices ever share one.
CREATE TABLE prefix_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    next_index INTEGER NOT NULL
);
INSERT INTO prefix_counter (id, next_index) VALUES (1, 0);

CREATE TABLE devices (
    code TEXT PRIMARY KEY,
    center TEXT NOT NULL REFERENCES centers (code),
    receipt_prefix TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    enrolled_at TEXT NOT NULL
);

CREATE TABLE enrolment_codes (
    code_hash TEXT PRIMARY KEY,
    center TEXT NOT NULL REFERENCES centers (code),
    expires_at TEXT NOT NULL,
    used_at TEXT,
    device TEXT
);

CREATE TABLE applied_changes (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    applied_at TEXT NOT NULL
);

CREATE TABLE citizens (
    center TEXT NOT NULL REFERENCES centers (code),
    national_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (center, national_id)
);

CREATE TABLE requests (
    id TEXT PRIMARY KEY,
    receipt TEXT NOT NULL UNIQUE,
    center TEXT NOT NULL REFERENCES centers (code),
    device TEXT NOT NULL,
    service TEXT NOT NULL,
    agency TEXT NOT NULL,
    catalogue_version INTEGER NOT NULL,
    citizen TEXT NOT NULL,
    status TEXT NOT NULL,
    fee TEXT,
    paid_minor INTEGER NOT NULL,
    waiver TEXT,
    exemptions TEXT NOT NULL,
    form TEXT NOT NULL,
    documents TEXT NOT NULL,
    reason TEXT,
    updated_hlc TEXT NOT NULL
);
CREATE INDEX requests_by_agency ON requests (agency, status);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    request TEXT NOT NULL REFERENCES requests (id),
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    method TEXT NOT NULL,
    receipt TEXT NOT NULL
);

-- What each centre's devices pull: catalogue versions, agency decisions, peers' changes.
CREATE TABLE change_log (
    center TEXT NOT NULL REFERENCES centers (code),
    seq INTEGER NOT NULL,
    -- The device whose push this is ('' for the back office's own changes): never echoed to it.
    origin_device TEXT NOT NULL,
    hlc TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (center, seq)
);
