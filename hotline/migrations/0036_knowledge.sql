-- The knowledge base (知识库, GB/T 44191-2024): articles the agents answer from, each
-- kept in every version with who wrote and who reviewed it; the answers given with an
-- article and the questions no article answered.

CREATE TABLE kb_articles (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                text UNIQUE,                 -- the seed file's key; NULL when written here
    kind                text NOT NULL
        CHECK (kind IN ('guide', 'faq', 'policy', 'script', 'outage')),
    owner_enterprise_id bigint REFERENCES enterprises (id),   -- NULL: the centre's
    published_version   integer,
    latest_version      integer NOT NULL,
    created_by          bigint REFERENCES users (id),
    created_at          timestamptz NOT NULL,
    archived_at         timestamptz,
    archived_by         bigint REFERENCES users (id),
    archive_note        text NOT NULL DEFAULT ''
);
CREATE INDEX kb_articles_owner_idx ON kb_articles (owner_enterprise_id);

CREATE TABLE kb_article_versions (
    article_id     bigint NOT NULL REFERENCES kb_articles (id),
    version        integer NOT NULL CHECK (version > 0),
    state          text NOT NULL
        CHECK (state IN ('draft', 'submitted', 'published', 'rejected', 'superseded')),
    title          text NOT NULL,
    body           text NOT NULL DEFAULT '',
    script         text NOT NULL DEFAULT '',         -- 答复口径: what the agent says
    documents      text[] NOT NULL DEFAULT '{}',
    fees           text NOT NULL DEFAULT '',
    time_limit     text NOT NULL DEFAULT '',
    steps          text[] NOT NULL DEFAULT '{}',
    en             jsonb NOT NULL DEFAULT '{}',
    service_items  text[] NOT NULL DEFAULT '{}',
    hotlines       text[] NOT NULL DEFAULT '{}',     -- '{}': every hotline
    areas          text[] NOT NULL DEFAULT '{}',     -- '{}': everywhere
    valid_from     date,
    valid_until    date,
    review_due     date,
    demo           boolean NOT NULL DEFAULT false,
    change_note    text NOT NULL DEFAULT '',
    written_by     bigint REFERENCES users (id),
    written_at     timestamptz NOT NULL,
    reviewed_by    bigint REFERENCES users (id),
    reviewed_at    timestamptz,
    review_note    text NOT NULL DEFAULT '',
    published_at   timestamptz,
    search         tsvector NOT NULL,
    PRIMARY KEY (article_id, version),
    CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from <= valid_until)
);
-- Searches and suggestions read only the published versions (one per article at most):
-- a partial GIN index keeps them off drafts and the history.
CREATE INDEX kb_versions_search_idx ON kb_article_versions USING gin (search)
    WHERE state = 'published';
CREATE INDEX kb_versions_items_idx ON kb_article_versions USING gin (service_items)
    WHERE state = 'published';
-- The review queue: submitted versions, oldest first.
CREATE INDEX kb_versions_submitted_idx ON kb_article_versions (written_at)
    WHERE state = 'submitted';

-- What searches rank by, kept for the published version of each live article: its
-- words with their weight in it (the title above the script above the rest), and how
-- many articles have each word. A search reads the postings of the words it asks for
-- alone (an index-only scan), not the matching versions' whole texts, and leaves out
-- the words so common that their postings would cost more than they tell.
CREATE TABLE kb_postings (
    word       text NOT NULL,
    article_id bigint NOT NULL REFERENCES kb_articles (id),
    weight     real NOT NULL CHECK (weight > 0),
    PRIMARY KEY (word, article_id) INCLUDE (weight)
);
CREATE INDEX kb_postings_article_idx ON kb_postings (article_id);
-- The empty word's row counts the articles that have postings (no word is empty).
CREATE TABLE kb_words (
    word     text PRIMARY KEY,
    articles integer NOT NULL CHECK (articles >= 0)
);

CREATE TABLE kb_answers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id   bigint NOT NULL REFERENCES kb_articles (id),
    version      integer NOT NULL,
    order_id     bigint REFERENCES work_orders (id),
    user_id      bigint REFERENCES users (id),
    hotline_code text REFERENCES hotlines (code),
    answered_at  timestamptz NOT NULL,
    FOREIGN KEY (article_id, version) REFERENCES kb_article_versions (article_id, version)
);
CREATE INDEX kb_answers_answered_idx ON kb_answers (answered_at, article_id);
CREATE INDEX kb_answers_order_idx ON kb_answers (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE kb_gaps (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question     text NOT NULL,
    hotline_code text REFERENCES hotlines (code),
    order_id     bigint REFERENCES work_orders (id),
    user_id      bigint REFERENCES users (id),
    source       text NOT NULL CHECK (source IN ('search', 'order')),
    asked_at     timestamptz NOT NULL
);
CREATE INDEX kb_gaps_asked_idx ON kb_gaps (asked_at);
-- An order's consultation is one gap however often its announcement is delivered.
CREATE UNIQUE INDEX kb_gaps_order_idx ON kb_gaps (order_id) WHERE source = 'order';
