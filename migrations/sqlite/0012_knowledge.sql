-- The knowledge base: each entry's current version, and every version with who wrote it and
-- which fields changed. Days of validity are ISO dates (YYYY-MM-DD, China Standard Time);
-- `platform` NULL means every platform.
CREATE TABLE knowledge_entries (
    id BIGINT PRIMARY KEY,
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    category TEXT NOT NULL,
    platform TEXT,
    source_department TEXT,
    valid_from TEXT,
    valid_to TEXT,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE knowledge_versions (
    entry_id BIGINT NOT NULL REFERENCES knowledge_entries (id),
    version BIGINT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed TEXT NOT NULL,
    entry TEXT NOT NULL,
    PRIMARY KEY (entry_id, version)
);
