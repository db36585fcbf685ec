-- 001_create_applications: one row per loan application, keyed by the lender's own
-- application id so that a retried POST /v1/applications finds the row it already wrote.
-- request_hash (sha256 of the canonical request body) lets the API tell a harmless retry
-- (same body) from a conflicting reuse of the id (different body). The Stripe customer and
-- Financial Connections session ids are unique so a webhook maps back to exactly one
-- application. The session's client_secret is deliberately NOT stored: it goes to the
-- browser once and must never rest in the database.
create table applications (
    id                text        primary key,
    request_hash      text        not null,
    loan_amount_minor bigint      not null check (loan_amount_minor > 0),
    term_months       integer     not null check (term_months > 0),
    currency          text        not null,
    customer_id       text        unique,
    session_id        text        unique,
    workflow_id       text        not null,
    stage             text        not null default 'created',
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);

---- create above / drop below ----

drop table applications;
