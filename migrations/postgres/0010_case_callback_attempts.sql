-- Each callback attempt on a case owed one (a caller who hung up while waiting): when, who,
-- whether the caller was reached, and a note, so that a request is traced to its callback.
-- Attempts on voice messages stay in callback_attempts.
CREATE TABLE case_callback_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    at TIMESTAMPTZ NOT NULL,
    reached BIGINT NOT NULL,
    operator TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX case_callback_attempts_by_case ON case_callback_attempts (case_id);
