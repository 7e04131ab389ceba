-- Times become TIMESTAMPTZ. Until now they were UTC ISO 8601 text with milliseconds
-- ("2026-11-25T02:19:38.123Z"), which PostgreSQL reads as timestamptz exactly.
ALTER TABLE cases
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN dispatch_due TYPE TIMESTAMPTZ USING dispatch_due::timestamptz,
    ALTER COLUMN sign_due TYPE TIMESTAMPTZ USING sign_due::timestamptz,
    ALTER COLUMN return_until TYPE TIMESTAMPTZ USING return_until::timestamptz,
    ALTER COLUMN handle_due TYPE TIMESTAMPTZ USING handle_due::timestamptz,
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING updated_at::timestamptz,
    ALTER COLUMN callback_requested_at TYPE TIMESTAMPTZ USING callback_requested_at::timestamptz;

ALTER TABLE calls
    ALTER COLUMN started_at TYPE TIMESTAMPTZ USING started_at::timestamptz,
    ALTER COLUMN answered_at TYPE TIMESTAMPTZ USING answered_at::timestamptz,
    ALTER COLUMN ended_at TYPE TIMESTAMPTZ USING ended_at::timestamptz;

ALTER TABLE voicemails
    ALTER COLUMN started_at TYPE TIMESTAMPTZ USING started_at::timestamptz,
    ALTER COLUMN callback_due TYPE TIMESTAMPTZ USING callback_due::timestamptz,
    ALTER COLUMN last_attempt_at TYPE TIMESTAMPTZ USING last_attempt_at::timestamptz;

ALTER TABLE callback_attempts ALTER COLUMN at TYPE TIMESTAMPTZ USING at::timestamptz;
ALTER TABLE case_history ALTER COLUMN at TYPE TIMESTAMPTZ USING at::timestamptz;
ALTER TABLE case_attachments ALTER COLUMN at TYPE TIMESTAMPTZ USING at::timestamptz;

ALTER TABLE supervision_marks
    ALTER COLUMN due TYPE TIMESTAMPTZ USING due::timestamptz,
    ALTER COLUMN marked_at TYPE TIMESTAMPTZ USING marked_at::timestamptz;

ALTER TABLE queue_log ALTER COLUMN at TYPE TIMESTAMPTZ USING at::timestamptz;
ALTER TABLE recordings ALTER COLUMN started_at TYPE TIMESTAMPTZ USING started_at::timestamptz;
ALTER TABLE agent_states ALTER COLUMN at TYPE TIMESTAMPTZ USING at::timestamptz;
