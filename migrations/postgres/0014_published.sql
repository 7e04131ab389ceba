-- What the public page shows of each published case, written in the same transaction as the
-- publish step and redacted then (src/cases/publish.rs): the caller's number, name and address
-- never reach this table, so that a search over it cannot find them.
CREATE TABLE published_cases (
    case_id BIGINT PRIMARY KEY REFERENCES cases (id),
    case_number TEXT NOT NULL,
    platform TEXT NOT NULL,
    category TEXT,
    district TEXT,
    summary TEXT NOT NULL,
    reply TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX published_cases_by_time ON published_cases (published_at);
