-- A dispatch's reasons in either language (issue 15, item 13). `reason` and
-- `withdrawn_reason` keep the Chinese text, which reports and SQL read; `texts` holds
-- the same reasons as templates with their values (hotline.i18n), keyed by the column
-- they explain, so an English reader gets "rule 3: water items (Shinan District) → ...".
-- Rows from before carry none and read in Chinese.
ALTER TABLE dispatches ADD COLUMN texts jsonb NOT NULL DEFAULT '{}'::jsonb;
