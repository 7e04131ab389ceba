-- Voice messages left outside staffed hours, and the callbacks they are owed.
-- status: recording (the file is still being written, or a crash interrupted it),
-- awaiting-callback, called-back.
CREATE TABLE voicemails (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    sip_call_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    caller TEXT NOT NULL,
    file TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms BIGINT,
    size_bytes BIGINT,
    sha256 TEXT,
    callback_due TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_outcome TEXT
);
CREATE INDEX voicemails_by_platform ON voicemails (platform, status, started_at);
CREATE INDEX voicemails_by_case ON voicemails (case_id);

-- Every callback attempt, with its outcome.
CREATE TABLE callback_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    voicemail_id BIGINT NOT NULL REFERENCES voicemails (id),
    at TEXT NOT NULL,
    reached BIGINT NOT NULL,
    operator TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX callback_attempts_by_voicemail ON callback_attempts (voicemail_id);
