-- Each day's report figures, kept by the first report that reads the day, so that a report
-- over months reads one row per day instead of every ticket, request and feedback.
-- `basis` names what the figures depend on beyond the rows (the centre's time zone and its
-- waiting target); `mark` is the day's mark when they were read.
CREATE TABLE report_days (
    day      TEXT PRIMARY KEY,
    basis    TEXT NOT NULL,
    mark     INTEGER NOT NULL,
    figures  TEXT NOT NULL
);

-- A day's mark moves whenever a ticket, request or feedback of that day changes, from any
-- writer (the clerk's actions, the back office's changes, erasure): kept figures whose mark
-- is not the day's mark are not used, and a report keeps what it read only if the mark has
-- not moved since it read it, so that a change committed meanwhile is never hidden.
CREATE TABLE report_day_marks (
    day   TEXT PRIMARY KEY,
    mark  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER report_days_ticket_in AFTER INSERT ON tickets
BEGIN
    INSERT INTO report_day_marks (day, mark) VALUES (NEW.day, 1)
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
CREATE TRIGGER report_days_ticket_up AFTER UPDATE ON tickets
BEGIN
    INSERT INTO report_day_marks (day, mark) VALUES (NEW.day, 1)
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
CREATE TRIGGER report_days_ticket_moved AFTER UPDATE OF day ON tickets
    WHEN OLD.day IS NOT NEW.day
BEGIN
    INSERT INTO report_day_marks (day, mark) VALUES (OLD.day, 1)
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
CREATE TRIGGER report_days_ticket_out AFTER DELETE ON tickets
BEGIN
    INSERT INTO report_day_marks (day, mark) VALUES (OLD.day, 1)
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
-- A transfer changes the service a ticket waited for, under which its visit's feedback counts.
CREATE TRIGGER report_days_ticket_target AFTER UPDATE OF target_kind, target_code ON tickets
    WHEN OLD.target_kind IS NOT NEW.target_kind OR OLD.target_code IS NOT NEW.target_code
BEGIN
    INSERT INTO report_day_marks (day, mark) 
        SELECT date(f.at, s.shift), 1
        FROM visits v JOIN feedback f ON f.visit_id = v.id, (SELECT '-1 day' AS shift UNION ALL SELECT '+0 days' UNION ALL SELECT '+1 day') s
        WHERE v.ticket_id = NEW.id
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
CREATE TRIGGER report_days_request_in AFTER INSERT ON requests
BEGIN
    INSERT INTO report_day_marks (day, mark) VALUES (NEW.intake_date, 1)
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
CREATE TRIGGER report_days_request_up AFTER UPDATE ON requests
BEGIN
    INSERT INTO report_day_marks (day, mark) VALUES (NEW.intake_date, 1)
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
CREATE TRIGGER report_days_request_moved AFTER UPDATE OF intake_date ON requests
    WHEN OLD.intake_date IS NOT NEW.intake_date
BEGIN
    INSERT INTO report_day_marks (day, mark) VALUES (OLD.intake_date, 1)
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
CREATE TRIGGER report_days_request_out AFTER DELETE ON requests
BEGIN
    INSERT INTO report_day_marks (day, mark) VALUES (OLD.intake_date, 1)
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
-- Feedback is stored with its UTC time: its local day is the UTC day or one either side.
CREATE TRIGGER report_days_feedback_in AFTER INSERT ON feedback
BEGIN
    INSERT INTO report_day_marks (day, mark) SELECT date(NEW.at, s.shift), 1 FROM (SELECT '-1 day' AS shift UNION ALL SELECT '+0 days' UNION ALL SELECT '+1 day') s WHERE true
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
CREATE TRIGGER report_days_feedback_up AFTER UPDATE ON feedback
BEGIN
    INSERT INTO report_day_marks (day, mark) SELECT date(NEW.at, s.shift), 1 FROM (SELECT '-1 day' AS shift UNION ALL SELECT '+0 days' UNION ALL SELECT '+1 day') s WHERE true
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
CREATE TRIGGER report_days_feedback_moved AFTER UPDATE OF at ON feedback
    WHEN OLD.at IS NOT NEW.at
BEGIN
    INSERT INTO report_day_marks (day, mark) SELECT date(OLD.at, s.shift), 1 FROM (SELECT '-1 day' AS shift UNION ALL SELECT '+0 days' UNION ALL SELECT '+1 day') s WHERE true
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
CREATE TRIGGER report_days_feedback_out AFTER DELETE ON feedback
BEGIN
    INSERT INTO report_day_marks (day, mark) SELECT date(OLD.at, s.shift), 1 FROM (SELECT '-1 day' AS shift UNION ALL SELECT '+0 days' UNION ALL SELECT '+1 day') s WHERE true
        ON CONFLICT (day) DO UPDATE SET mark = mark + 1;
END;
-- A visit's clerk, counter and ticket are written when it starts and never change: the
-- figures of its requests and feedback follow them, so a change would have to move the marks.
CREATE TRIGGER report_days_visit_fixed BEFORE UPDATE OF ticket_id, counter, clerk ON visits
    WHEN OLD.ticket_id IS NOT NEW.ticket_id OR OLD.counter IS NOT NEW.counter
        OR OLD.clerk IS NOT NEW.clerk
BEGIN
    SELECT RAISE(ABORT, 'a visit''s ticket, counter and clerk do not change once it has started');
END;

-- A report's overdue requests are the open requests by due date (hundreds of thousands in a
-- busy year): the index of requests by status holds what the list shows, so that they are
-- read from it alone.
DROP INDEX requests_by_status;
CREATE INDEX requests_by_status
    ON requests (status, due_date, intake_date, receipt, service_code, id);

-- The report's comments, earliest first, and the feedback of the days not kept yet.
CREATE INDEX feedback_by_time ON feedback (at);
CREATE INDEX feedback_comments ON feedback (at) WHERE trim(coalesce(comment, '')) <> '';
