-- The server's calls to operator seats (the B2BUA's second legs): every seat rung for a call,
-- with the leg's own Call-ID, so that a case traces from the caller's first ring to the
-- operator who answered.
CREATE TABLE agent_legs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    sip_call_id TEXT NOT NULL,
    leg_call_id TEXT NOT NULL UNIQUE,
    agent TEXT NOT NULL,
    rang_at TIMESTAMPTZ NOT NULL,
    answered_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    outcome TEXT
);
CREATE INDEX agent_legs_by_case ON agent_legs (case_id);
