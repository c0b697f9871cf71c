-- Releases of the app that the back office serves to the devices' updater, each signed with
-- the release key's private half (checked at publication against `release_key`). Releases
-- are never edited: a new version is published instead.
CREATE TABLE releases (
    -- MAJOR.MINOR.PATCH, as written once (no leading zeros).
    version TEXT PRIMARY KEY,
    -- The version's numbers, so that versions compare as numbers (0.10.0 is above 0.9.0).
    major INTEGER NOT NULL,
    minor INTEGER NOT NULL,
    patch INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    -- Hex SHA-256 of the package.
    sha256 TEXT NOT NULL,
    -- The .sig file as Tauri's signer wrote it: base64 of a minisign signature.
    signature TEXT NOT NULL,
    notes TEXT NOT NULL,
    -- A JSON array of the centres it is offered to; NULL for every centre.
    centres TEXT,
    published_at TEXT NOT NULL,
    -- Last: SQLite reads the other columns of a row without walking the package's pages.
    package BLOB NOT NULL
);

-- One row: the public half of the key releases are signed with, as `tauri signer generate`
-- wrote it (base64 of a minisign public key).
CREATE TABLE release_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    public_key TEXT NOT NULL,
    set_at TEXT NOT NULL
);
