-- Cases and the calls that created or joined them. Times are UTC, ISO 8601 with milliseconds
-- ("2026-11-25T02:19:38.123Z"), the same text on SQLite and PostgreSQL, so they sort as text.
CREATE TABLE cases (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_number TEXT NOT NULL UNIQUE,
    platform TEXT NOT NULL,
    caller TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'accepted',
    created_at TEXT NOT NULL
);
CREATE INDEX cases_by_caller ON cases (caller);

CREATE TABLE calls (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    sip_call_id TEXT NOT NULL UNIQUE,
    caller TEXT NOT NULL,
    called TEXT NOT NULL,
    platform TEXT NOT NULL,
    route_reason TEXT NOT NULL,
    started_at TEXT NOT NULL,
    answered_at TEXT,
    ended_at TEXT,
    duration_ms BIGINT,
    end_cause TEXT
);
CREATE INDEX calls_by_case ON calls (case_id);
CREATE INDEX calls_by_end ON calls (ended_at);

-- The last case number given per platform and local day.
CREATE TABLE case_counters (
    platform TEXT NOT NULL,
    day TEXT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (platform, day)
);
