-- A change the back office decided otherwise (state 'conflict') stays in the outbox as it was;
-- the clerk who has looked at it and settled the matter with the citizen marks it resolved,
-- with a note. Open conflicts are those not yet resolved.
ALTER TABLE outbox ADD COLUMN resolved_at TEXT;
ALTER TABLE outbox ADD COLUMN resolution TEXT;
