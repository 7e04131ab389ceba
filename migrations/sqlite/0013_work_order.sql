-- The work order's details (caller's name and address, the place, the summary, the
-- knowledge-base entry used, confidentiality), as JSON: read and written whole with the case,
-- never searched by the database. NULL for cases from before, read as an empty order.
ALTER TABLE cases ADD COLUMN work_order TEXT;
