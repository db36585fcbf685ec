-- 010_create_lenders: the API serves several lenders, each with its own API keys, and every
-- application belongs to the lender that created it.
--
-- lenders: one row per lender. The lender 'dev' always exists: it owns the applications
-- created before lenders existed (their workflows, underwrite/<id>, keep resolving for it)
-- and those whose workflow a backend started with the Temporal client without naming a
-- lender. It has no API key until someone creates one (`underwriter keys create --lender
-- dev`), so it opens nothing.
--
-- api_keys: a key is shown once, when it is created; only the SHA-256 of the whole key is
-- stored (a key carries 256 random bits, so a fast hash is enough: there is nothing to
-- guess). id is the key's public part, printed inside the key itself, so a request finds
-- its row with one index lookup and compares hashes in constant time. A lender may hold
-- several active keys, to rotate them without downtime; revoked_at retires one.
-- last_used_at (updated at most once a minute) tells an operator whether an old key is
-- still in use before revoking it.
--
-- applications: lender_id and external_id (the lender's own application id) are unique
-- together, so two lenders may use the same id. id stays the primary key every other table
-- refers to: '<lender>/<external_id>' for new applications, the external id alone for old
-- ones. failure_cause says why the application's workflow failed (stage 'failed').
create table lenders (
    id         text        primary key check (id ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    name       text        not null default '',
    created_at timestamptz not null default now()
);

insert into lenders (id, name) values ('dev', 'development lender');

create table api_keys (
    id           text        primary key,
    lender_id    text        not null references lenders (id),
    key_hash     bytea       not null check (length(key_hash) = 32),
    label        text        not null default '',
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

create index api_keys_lender_id_idx on api_keys (lender_id);

alter table applications
    add column lender_id     text references lenders (id),
    add column external_id   text,
    add column failure_cause text;

update applications set lender_id = 'dev', external_id = id;

alter table applications
    alter column lender_id set not null,
    alter column external_id set not null,
    add constraint applications_lender_external_key unique (lender_id, external_id);

---- create above / drop below ----

-- Going down drops the lenders and their keys. Applications keep their primary key, which
-- for applications of lenders other than dev still holds '<lender>/'.

alter table applications
    drop constraint applications_lender_external_key,
    drop column failure_cause,
    drop column external_id,
    drop column lender_id;
drop table api_keys;
drop table lenders;
