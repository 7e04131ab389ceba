-- The seats' registrations (RFC 3261 §10 bindings), kept so that a restart forgets none that
-- was acknowledged: phones believe themselves registered until their expiry. Times are Unix
-- seconds; `instance` and `reg_id` are the contact's +sip.instance and reg-id (RFC 5626).
CREATE TABLE registrations (
    aor TEXT NOT NULL,
    contact TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    call_id TEXT NOT NULL,
    cseq BIGINT NOT NULL,
    source TEXT NOT NULL,
    instance TEXT,
    reg_id BIGINT,
    PRIMARY KEY (aor, contact)
);
