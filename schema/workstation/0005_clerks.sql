-- Who may act at this workstation: the clerks' accounts, how logins failed, and the
-- command line's sessions. Every change now names the clerk who was logged in.

-- An account as this device holds it: made here on a standalone workstation ('local'), or sent
-- by the back office ('backoffice'). Only the Argon2id verifier of the password is kept.
CREATE TABLE clerks (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor', 'administrator')),
    active        INTEGER NOT NULL CHECK (active IN (0, 1)),
    verifier      TEXT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('local', 'backoffice')),
    updated_at    TEXT NOT NULL
);

-- Failed logins in a row, per typed name. The name is kept only as a SHA-256 digest: what
-- was typed may be anything, a password in the wrong field included.
CREATE TABLE login_failures (
    name_digest     TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failed_at  TEXT NOT NULL
);

-- The command line's sessions: the token itself is in a file of the data directory readable
-- by its owner alone; here only its SHA-256 digest.
CREATE TABLE cli_sessions (
    token_digest  TEXT PRIMARY KEY,
    username      TEXT NOT NULL REFERENCES clerks (username),
    expires_at    TEXT NOT NULL
);

-- How long a device that has not reached its back office keeps taking logins, and after how
-- long without a key or a click the window locks itself (0: never).
ALTER TABLE workstation ADD COLUMN max_offline_days INTEGER NOT NULL DEFAULT 14;
ALTER TABLE workstation ADD COLUMN idle_lock_minutes INTEGER NOT NULL DEFAULT 5;

-- The clerk logged in when the change was made; the back office checks it. Changes made
-- before accounts existed keep the name typed then.
ALTER TABLE outbox ADD COLUMN actor TEXT NOT NULL DEFAULT '';
UPDATE outbox SET actor = coalesce((SELECT default_clerk FROM workstation WHERE id = 1), '');
