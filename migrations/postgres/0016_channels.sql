-- Other channels (issue 15): requests by mail, SMS, web form, app and messaging platforms
-- become the same cases. Times are TIMESTAMPTZ, as elsewhere.
-- The channel a case came in on (phone, email, sms, web, app, wechat), the requester's
-- address on it when that is not a phone number (a mail address, an official-account user),
-- the first answer's deadline (GB/T 33358: 3 minutes for SMS, web and app, 24 hours for mail)
-- and when it was answered, and whether the requester asked for progress notices.
ALTER TABLE cases ADD COLUMN channel TEXT NOT NULL DEFAULT 'phone';
ALTER TABLE cases ADD COLUMN contact TEXT;
ALTER TABLE cases ADD COLUMN answer_due TIMESTAMPTZ;
ALTER TABLE cases ADD COLUMN first_answer_at TIMESTAMPTZ;
ALTER TABLE cases ADD COLUMN notify BIGINT NOT NULL DEFAULT 0;
CREATE INDEX cases_by_contact ON cases (contact);

-- What was written to and by the requester: the request itself, follow-ups, the
-- acknowledgement, answers, notices. message_ref is a mail's Message-ID, so that a reply to
-- one of ours finds its case.
CREATE TABLE case_messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    message_ref TEXT,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_messages_by_case ON case_messages (case_id, id);
CREATE INDEX case_messages_by_ref ON case_messages (message_ref);

-- A message's attachments, kept as files under the data folder, with their SHA-256.
CREATE TABLE attachments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES case_messages (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL
);
CREATE INDEX attachments_by_message ON attachments (message_id);

-- Mail and SMS waiting to go out, and what became of them: written in the same commit as
-- what caused them, sent by the channel's sender, kept until sent (an SMS centre or a relay
-- that is down delays them; nothing is lost).
CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel TEXT NOT NULL,
    case_id BIGINT REFERENCES cases (id),
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    attachment TEXT,
    in_reply_to TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    next_at TIMESTAMPTZ NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    sent_at TIMESTAMPTZ,
    remote_id TEXT,
    delivered_at TIMESTAMPTZ,
    delivery TEXT,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (channel, sent_at, next_at);

-- Each short message an SMS went out as (a long one is several), by the centre's message id,
-- so that a delivery receipt finds its SMS.
CREATE TABLE sms_parts (
    outbox_id BIGINT NOT NULL REFERENCES outbox (id),
    smsc_id TEXT NOT NULL,
    status TEXT,
    at TIMESTAMPTZ
);
CREATE INDEX sms_parts_by_smsc_id ON sms_parts (smsc_id);

-- A delivery receipt that came before the submit's outcome was stored (a centre may report
-- at once): kept until its SMS's parts are recorded, then applied.
CREATE TABLE sms_early_receipts (
    smsc_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sms_early_receipts_by_id ON sms_early_receipts (smsc_id);
