-- Callers owed a callback: after a voice message, or after hanging up while waiting in the
-- queue (national guidance asks hotlines to call back missed calls).
ALTER TABLE cases ADD COLUMN callback_reason TEXT;
ALTER TABLE cases ADD COLUMN callback_requested_at TEXT;
ALTER TABLE cases ADD COLUMN callback_attempts BIGINT NOT NULL DEFAULT 0;
UPDATE cases SET callback_reason = 'voicemail' WHERE callback_status IS NOT NULL;
