-- 002_create_accounts: the Financial Connections accounts (fca_…) an applicant linked.
-- Stripe ids are the primary key, so a duplicated account.created webhook upserts the same
-- row. last_synced_refresh_id records the transaction refresh (fctxnref_…) whose pages were
-- fully written, so a resumed sync knows where it stands. No account numbers or last4 are
-- stored: underwriting never needs them and they are sensitive.
create table accounts (
    id                     text        primary key,
    application_id         text        not null references applications (id) on delete cascade,
    customer_id            text        not null,
    category               text        not null,
    subcategory            text        not null,
    status                 text        not null,
    institution_name       text        not null,
    currency               text        not null,
    last_synced_refresh_id text,
    created_at             timestamptz not null default now(),
    updated_at             timestamptz not null default now()
);

create index accounts_application_id_idx on accounts (application_id);

---- create above / drop below ----

drop table accounts;
