-- Guichet workstation: the local replica a clerk works against.
-- Migrations are only ever added, never edited. Each runs in the transaction that applies it.

-- The one row that says which centre and device this is.
CREATE TABLE workstation (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    center_code         TEXT NOT NULL,
    center_name         TEXT NOT NULL,
    center_kind         TEXT NOT NULL,
    device_code         TEXT NOT NULL,
    receipt_prefix      TEXT NOT NULL,
    channel             TEXT NOT NULL,
    national_id_scheme  TEXT NOT NULL,
    currency            TEXT NOT NULL,
    waiting_target_min  INTEGER NOT NULL,
    default_clerk       TEXT,
    created_at          TEXT NOT NULL,
    next_receipt_seq    INTEGER NOT NULL DEFAULT 0,
    hlc_last            TEXT
);

-- The catalogue version this device holds; replaced as a whole when a new one arrives.
CREATE TABLE catalogue_version (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    version     INTEGER NOT NULL,
    loaded_at   TEXT NOT NULL,
    services    INTEGER NOT NULL,
    skipped     INTEGER NOT NULL
);

CREATE TABLE categories (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,      -- JSON translations
    queue_letter  TEXT NOT NULL UNIQUE
);

CREATE TABLE agencies (
    code  TEXT PRIMARY KEY,
    name  TEXT NOT NULL
);

CREATE TABLE target_groups (
    code  TEXT PRIMARY KEY,
    name  TEXT NOT NULL
);

CREATE TABLE life_events (
    code  TEXT PRIMARY KEY,
    name  TEXT NOT NULL
);

-- Only the services offered at this centre are kept.
CREATE TABLE services (
    id               INTEGER PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE,
    category         TEXT NOT NULL REFERENCES categories (code),
    agency           TEXT NOT NULL REFERENCES agencies (code),
    title            TEXT NOT NULL,   -- JSON translations
    title_sort       TEXT NOT NULL,   -- folded English title, for browsing order
    processing_days  INTEGER NOT NULL,
    definition       TEXT NOT NULL    -- the whole service as JSON
);
CREATE INDEX services_by_category ON services (category);
CREATE INDEX services_by_agency ON services (agency);

CREATE TABLE service_target_groups (
    service_id    INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    target_group  TEXT NOT NULL REFERENCES target_groups (code),
    PRIMARY KEY (target_group, service_id)
) WITHOUT ROWID;

CREATE TABLE service_life_events (
    service_id  INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    life_event  TEXT NOT NULL REFERENCES life_events (code),
    PRIMARY KEY (life_event, service_id)
) WITHOUT ROWID;

CREATE TABLE service_channels (
    service_id  INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,
    depth       TEXT NOT NULL,
    PRIMARY KEY (channel, service_id)
) WITHOUT ROWID;

CREATE TABLE holidays (
    day   TEXT PRIMARY KEY,
    name  TEXT NOT NULL
);

CREATE TABLE citizens (
    national_id  TEXT PRIMARY KEY,
    given_name   TEXT NOT NULL,
    family_name  TEXT NOT NULL,
    name_key     TEXT NOT NULL,       -- folded "family given", for finding again
    birth_date   TEXT NOT NULL,
    phone        TEXT,
    email        TEXT,
    address      TEXT,
    created_at   TEXT NOT NULL,
    hlc          TEXT NOT NULL
);
CREATE INDEX citizens_by_name ON citizens (name_key, birth_date);

CREATE TABLE lanes (
    code  TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    rank  INTEGER NOT NULL
);

CREATE TABLE counters (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    scope  TEXT NOT NULL               -- JSON CounterScope
);

-- Display numbers restart every day for every queue letter.
CREATE TABLE ticket_numbers (
    day     TEXT NOT NULL,
    letter  TEXT NOT NULL,
    last    INTEGER NOT NULL,
    PRIMARY KEY (day, letter)
) WITHOUT ROWID;

-- The rowid is the arrival order: never the wall clock.
CREATE TABLE tickets (
    arrival          INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    day              TEXT NOT NULL,
    code             TEXT NOT NULL,
    target_kind      TEXT NOT NULL CHECK (target_kind IN ('service', 'category')),
    target_code      TEXT NOT NULL,
    lane             TEXT NOT NULL REFERENCES lanes (code),
    status           TEXT NOT NULL,
    counter          TEXT REFERENCES counters (code),
    clerk            TEXT,
    calls            INTEGER NOT NULL DEFAULT 0,
    no_shows         INTEGER NOT NULL DEFAULT 0,
    transfers        INTEGER NOT NULL DEFAULT 0,
    issued           TEXT NOT NULL,   -- JSON Moment
    first_call       TEXT,
    last_call        TEXT,
    started          TEXT,
    ended            TEXT,
    waiting_ms       INTEGER,
    service_ms       INTEGER,
    issued_at        TEXT NOT NULL,   -- wall clock, for queries and people
    UNIQUE (day, code)
);
CREATE INDEX tickets_waiting ON tickets (status, arrival);

CREATE TABLE visits (
    id          TEXT PRIMARY KEY,
    ticket_id   TEXT REFERENCES tickets (id),
    counter     TEXT,
    clerk       TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT
);
CREATE INDEX visits_by_ticket ON visits (ticket_id, started_at);

CREATE TABLE requests (
    id                 TEXT PRIMARY KEY,
    receipt            TEXT NOT NULL UNIQUE,
    service_code       TEXT NOT NULL,
    service_title      TEXT NOT NULL,   -- JSON translations, as at intake
    category           TEXT NOT NULL,
    agency             TEXT NOT NULL,
    catalogue_version  INTEGER NOT NULL,
    citizen_id         TEXT NOT NULL REFERENCES citizens (national_id),
    center_code        TEXT NOT NULL,
    device_code        TEXT NOT NULL,
    clerk              TEXT NOT NULL,
    visit_id           TEXT REFERENCES visits (id),
    form               TEXT NOT NULL,   -- JSON canonical values
    fee_minor          INTEGER,         -- NULL: free
    fee_currency       TEXT,
    fee_tier           TEXT,
    fee_exemptions     TEXT NOT NULL,   -- JSON target groups exempt, as at intake
    waiver_ground      TEXT,
    paid_minor         INTEGER NOT NULL DEFAULT 0,
    status             TEXT NOT NULL,
    status_reason      TEXT,
    intake_date        TEXT NOT NULL,
    due_date           TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    created_hlc        TEXT NOT NULL,
    updated_hlc        TEXT NOT NULL
);
CREATE INDEX requests_by_status ON requests (status, due_date);
CREATE INDEX requests_by_service ON requests (service_code);
CREATE INDEX requests_by_citizen ON requests (citizen_id);
CREATE INDEX requests_by_date ON requests (intake_date);

CREATE TABLE request_documents (
    request_id  TEXT NOT NULL REFERENCES requests (id),
    code        TEXT NOT NULL,
    position    INTEGER NOT NULL,    -- order of the catalogue's checklist
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    received    INTEGER NOT NULL,
    PRIMARY KEY (request_id, code)
) WITHOUT ROWID;

-- The timeline of status changes, newest last.
CREATE TABLE request_events (
    id           INTEGER PRIMARY KEY,
    request_id   TEXT NOT NULL REFERENCES requests (id),
    action       TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    party        TEXT NOT NULL,
    actor        TEXT NOT NULL,
    reason       TEXT,
    at           TEXT NOT NULL,
    hlc          TEXT NOT NULL
);
CREATE INDEX request_events_by_request ON request_events (request_id, id);

CREATE TABLE payments (
    id            TEXT PRIMARY KEY,
    request_id    TEXT NOT NULL REFERENCES requests (id),
    amount_minor  INTEGER NOT NULL CHECK (amount_minor > 0),
    currency      TEXT NOT NULL,
    method        TEXT NOT NULL,
    receipt       TEXT NOT NULL UNIQUE,
    clerk         TEXT NOT NULL,
    at            TEXT NOT NULL,
    hlc           TEXT NOT NULL
);
CREATE INDEX payments_by_request ON payments (request_id);

CREATE TABLE feedback (
    id        TEXT PRIMARY KEY,
    visit_id  TEXT NOT NULL UNIQUE REFERENCES visits (id),
    rating    INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment   TEXT,
    channel   TEXT NOT NULL,
    at        TEXT NOT NULL,
    hlc       TEXT NOT NULL
);

-- Hash-chained: see guichet_domain::audit.
CREATE TABLE audit_events (
    seq          INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    hlc          TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    entity_kind  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    change       TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);

-- Changes waiting to leave the device. seq is the device's sequence number; id is unique
-- everywhere, so that the back office applies each change once.
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    hlc         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'refused', 'conflict')),
    reason      TEXT
);
CREATE INDEX outbox_by_state ON outbox (state, seq);
