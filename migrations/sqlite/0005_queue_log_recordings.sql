-- The queue log (like Asterisk's queue_log): enter-queue, ring-no-answer, connect, complete,
-- abandon, transfer, overflow, with their details as JSON.
CREATE TABLE queue_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    queue TEXT NOT NULL,
    call_id TEXT NOT NULL,
    agent TEXT,
    event TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX queue_log_by_queue ON queue_log (queue, id);

-- Recordings of answered calls: one file per side.
CREATE TABLE recordings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    sip_call_id TEXT NOT NULL,
    agent_call_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    side TEXT NOT NULL,
    file TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms BIGINT,
    size_bytes BIGINT,
    sha256 TEXT
);
CREATE INDEX recordings_by_case ON recordings (case_id);
