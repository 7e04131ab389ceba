-- Beyond one inbound call (issue 14).
-- The audit trail of a case's calls: a supervisor listening in, whispering or barging in, a
-- hand-over to another hotline, a consultation; who, what and when.
CREATE TABLE case_audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    sip_call_id TEXT,
    at TIMESTAMPTZ NOT NULL,
    actor_role TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX case_audit_by_case ON case_audit (case_id, id);
-- The caller's rating of a call (1 satisfied, 2 basically satisfied, 3 dissatisfied), and the
-- call's direction: in (to 12345) or out (a callback, a reminder).
ALTER TABLE calls ADD COLUMN rating BIGINT;
ALTER TABLE calls ADD COLUMN direction TEXT NOT NULL DEFAULT 'in';
-- The caller's rating of how the matter was handled, given on the return-visit callback.
ALTER TABLE cases ADD COLUMN handling_rating BIGINT;
-- A callback attempt made by phone: its call, how it went (reached, no-answer, busy, refused,
-- failed) and what it was for (missed, voicemail, return-visit).
ALTER TABLE case_callback_attempts ADD COLUMN sip_call_id TEXT;
ALTER TABLE case_callback_attempts ADD COLUMN outcome TEXT;
ALTER TABLE case_callback_attempts ADD COLUMN kind TEXT NOT NULL DEFAULT 'missed';
-- Phone reminders to units about cases they have not signed: each call and its outcome.
CREATE TABLE reminders (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    unit TEXT NOT NULL,
    number TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    outcome TEXT NOT NULL,
    sip_call_id TEXT
);
CREATE INDEX reminders_by_case ON reminders (case_id);
