-- Why the back office refused or overruled a change, in words each language can say: the
-- refusal's code and, for a conflict, the request's status at the back office. The back
-- office's own sentence stays in `reason`, in English, for the command line and support.
ALTER TABLE outbox ADD COLUMN refusal_code TEXT;
ALTER TABLE outbox ADD COLUMN server_status TEXT;
