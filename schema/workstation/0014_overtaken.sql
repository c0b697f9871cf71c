-- A move of a request pulled from the back office that this centre's own later move
-- overtook is kept as a conflict: who made it, for the window to say so in the clerk's
-- language (its status is in `server_status`).
ALTER TABLE outbox ADD COLUMN overtaken_by TEXT;
