-- 013_create_rescore_selections: `underwriter rescore --query` selects the applications to
-- score again with a Temporal visibility query rather than a period. The command resolves
-- the query once to the applications' keys and stores them here under a selection id (a
-- hash of the keys), so the Rescore workflow and its batches carry the id only, not
-- thousands of keys through their history, and a second run of the same query resumes the
-- same selection.
create table rescore_selections (
    selection_id   text        not null,
    application_id text        not null references applications (id) on delete cascade,
    created_at     timestamptz not null default now(),
    primary key (selection_id, application_id)
);

---- create above / drop below ----

drop table rescore_selections;
