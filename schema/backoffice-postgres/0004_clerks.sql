-- Clerk accounts, the centres they may log in at, and the session events devices push.
-- An account is never deleted: the acts of a disabled account keep its name.
CREATE TABLE accounts (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor', 'administrator')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    -- The password's Argon2id verifier (PHC string); the password itself is never kept.
    verifier TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- A clerk belongs to exactly one centre; supervisors and administrators may have several. The
-- back office checks that rule when it writes; this table only records the membership.
CREATE TABLE account_centers (
    username TEXT NOT NULL REFERENCES accounts (username),
    center TEXT NOT NULL REFERENCES centers (code),
    PRIMARY KEY (username, center)
);
CREATE INDEX account_centers_by_center ON account_centers (center, username);

-- Logins, failed logins, locks, unlocks and logouts at the devices, once each (the change id
-- is the key, as in applied_changes). They are kept here and not in the centre's log: other
-- devices have no use for them.
CREATE TABLE session_events (
    change_id TEXT PRIMARY KEY,
    center TEXT NOT NULL REFERENCES centers (code),
    device TEXT NOT NULL,
    -- The account's user name, or '(unknown)' for a failed login under a name that is none.
    clerk TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('login', 'login_failed', 'lock', 'unlock', 'logout')),
    -- The device's hybrid clock stamp: orders the events of a device whatever its wall clock.
    hlc TEXT NOT NULL,
    -- When the back office received it (its own wall clock).
    received_at TEXT NOT NULL
);
CREATE INDEX session_events_by_center ON session_events (center, hlc);

-- Who was logged in when each applied change was made, as the back office checked it.
-- Changes applied before accounts existed have none.
ALTER TABLE applied_changes ADD COLUMN actor TEXT;
