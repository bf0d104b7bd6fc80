-- Exports (docs/reports.md, "Exports"): a person's request to have a list (the orders a
-- search finds; later a report) written to an XLSX or CSV file. Drained by the relay like
-- the outbox (reports.exports.jobs): the job writes the file, counting its rows as it
-- goes, and the file is kept for a day; the relay's chore removes it after that.
CREATE TABLE report_exports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,               -- the source (reports.exports.sources)
    format        text NOT NULL CHECK (format IN ('xlsx', 'csv')),
    params        jsonb NOT NULL,              -- the source's query, as it was checked
    -- Who asked, and what they might see then: the job exports that, not more.
    requested_by  bigint NOT NULL REFERENCES users (id),
    actor         jsonb NOT NULL,
    language      text NOT NULL CHECK (language IN ('zh-CN', 'en')),
    state         text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'enqueued', 'done', 'failed', 'expired')),
    due_at        timestamptz NOT NULL,
    lease_until   timestamptz,
    attempts      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    rows_done     bigint NOT NULL DEFAULT 0,
    rows_total    bigint,                      -- counted when the job starts
    finished_at   timestamptz,
    expires_at    timestamptz,                 -- done: the file goes after this
    file_key      text,
    file_name     text,
    size_bytes    bigint,
    error         text
);
CREATE INDEX report_exports_due_idx ON report_exports (due_at)
    WHERE state IN ('pending', 'enqueued');
-- A person's own exports, newest first (the console's list).
CREATE INDEX report_exports_requester_idx ON report_exports (requested_by, id DESC);
-- The files to remove: the relay's chore reads the expired ones.
CREATE INDEX report_exports_expiry_idx ON report_exports (expires_at) WHERE state = 'done';
