-- PostgreSQL's times become TIMESTAMPTZ in its 0008. SQLite has no time type: its times stay
-- UTC ISO 8601 text with milliseconds ("2026-11-25T02:19:38.123Z"), so text order is time order.
-- Nothing changes here; the file keeps the two folders numbered alike.
SELECT 1;
