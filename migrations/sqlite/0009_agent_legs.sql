-- The server's calls to operator seats (the B2BUA's second legs): every seat rung for a call,
-- with the leg's own Call-ID, so that a case traces from the caller's first ring to the
-- operator who answered. Times are UTC RFC 3339 text with milliseconds.
CREATE TABLE agent_legs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    sip_call_id TEXT NOT NULL,
    leg_call_id TEXT NOT NULL UNIQUE,
    agent TEXT NOT NULL,
    rang_at TEXT NOT NULL,
    answered_at TEXT,
    ended_at TEXT,
    outcome TEXT
);
CREATE INDEX agent_legs_by_case ON agent_legs (case_id);
