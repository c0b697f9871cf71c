-- What each device reported of itself at its last successful exchange: the fleet at a glance
-- (which bus has not synced for days, which runs an old release, whose clock is off).
CREATE TABLE device_contacts (
    device           TEXT PRIMARY KEY REFERENCES devices (code),
    app_version      TEXT NOT NULL,
    contact_at       TEXT NOT NULL,
    waiting          INTEGER NOT NULL,
    refused          INTEGER NOT NULL,
    -- The device's clock minus the back office's when the exchange arrived.
    clock_offset_ms  INTEGER NOT NULL
);
