-- Refunds: a payment recorded by mistake is given back by a refund, never edited. A refund
-- names the payment it reverses (in part or in full), why, and the supervisor who approved it
-- besides the clerk who made it. `requests.paid_minor` stays what is paid net of refunds.
CREATE TABLE refunds (
    id            TEXT PRIMARY KEY,
    payment_id    TEXT NOT NULL REFERENCES payments (id),
    request_id    TEXT NOT NULL REFERENCES requests (id),
    amount_minor  INTEGER NOT NULL CHECK (amount_minor > 0),
    currency      TEXT NOT NULL,
    -- The payment's method: cash given back leaves the drawer.
    method        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    receipt       TEXT NOT NULL UNIQUE,
    clerk         TEXT NOT NULL,
    approver      TEXT NOT NULL,
    at            TEXT NOT NULL,
    hlc           TEXT NOT NULL
);
CREATE INDEX refunds_by_payment ON refunds (payment_id);
CREATE INDEX refunds_by_request ON refunds (request_id);
