-- Supervision marks, written by the scheduler when a case's open step becomes due soon or
-- overdue; kept across restarts (and recomputed from the stored deadlines, so none is missed).
CREATE TABLE supervision_marks (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    due TEXT NOT NULL,
    marked_at TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, level, due)
);
