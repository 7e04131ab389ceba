-- The case workflow: category, responsible unit, deadlines, and an append-only history.
-- A case's callback after a voice message is its own column, not a workflow state.
ALTER TABLE cases ADD COLUMN callback_status TEXT;
UPDATE cases SET callback_status = 'awaiting', state = 'accepted' WHERE state = 'voicemail-awaiting-callback';
UPDATE cases SET callback_status = 'done', state = 'accepted' WHERE state = 'called-back';
ALTER TABLE cases ADD COLUMN category TEXT;
ALTER TABLE cases ADD COLUMN topic TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN unit TEXT;
ALTER TABLE cases ADD COLUMN out_of_scope TEXT;
ALTER TABLE cases ADD COLUMN legal_days BIGINT;
ALTER TABLE cases ADD COLUMN extensions BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN dispatch_due TEXT;
ALTER TABLE cases ADD COLUMN sign_due TEXT;
ALTER TABLE cases ADD COLUMN return_until TEXT;
ALTER TABLE cases ADD COLUMN handle_due TEXT;
ALTER TABLE cases ADD COLUMN provisional BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN updated_at TEXT;
CREATE INDEX cases_by_state ON cases (platform, state);
CREATE INDEX cases_by_unit ON cases (unit, state);

CREATE TABLE case_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    at TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_unit TEXT,
    event TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX case_history_by_case ON case_history (case_id, id);

-- Attachments' metadata that came with imported cases (files stay with their platform).
CREATE TABLE case_attachments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    at TEXT NOT NULL,
    duration_ms BIGINT,
    size_bytes BIGINT,
    sha256 TEXT
);
CREATE INDEX case_attachments_by_case ON case_attachments (case_id);
