-- 008_create_application_accounts: a returning customer is underwritten again on accounts
-- already linked, so one account can serve several applications of its customer, and one
-- customer can have several applications. Which accounts an application reads moves to a
-- link table (accounts.application_id stays: the application that linked the account
-- first), and applications.customer_id is no longer unique. The account's sync cursor
-- (last_synced_refresh_id) is shared, so a later application syncs only what changed.
create table application_accounts (
    application_id text        not null references applications (id) on delete cascade,
    account_id     text        not null references accounts (id) on delete cascade,
    attached_at    timestamptz not null default now(),
    primary key (application_id, account_id)
);

create index application_accounts_account_id_idx on application_accounts (account_id);

insert into application_accounts (application_id, account_id, attached_at)
select application_id, id, created_at from accounts;

alter table applications drop constraint applications_customer_id_key;
create index applications_customer_id_idx on applications (customer_id);

---- create above / drop below ----

-- Going down restores one application per customer: it fails, naming the customer, once a
-- customer has a second application; delete or merge those first.

drop index applications_customer_id_idx;
alter table applications add constraint applications_customer_id_key unique (customer_id);
drop table application_accounts;
