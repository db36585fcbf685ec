-- 003_create_transactions: Financial Connections transactions (fctxn_…), written page by
-- page while syncing. amount_minor is already in the project's sign convention (positive =
-- money into the account). Stripe's `updated` time is kept as stripe_updated_at so an
-- upsert can refuse to overwrite a newer version of a transaction with an older one (pages
-- and retries may arrive out of order). The index serves the ledger read, which is ordered
-- by transacted_at, id for a deterministic snapshot.
create table transactions (
    id                  text        primary key,
    account_id          text        not null references accounts (id) on delete cascade,
    amount_minor        bigint      not null,
    currency            text        not null,
    description         text        not null,
    status              text        not null check (status in ('pending', 'posted', 'void')),
    transacted_at       timestamptz not null,
    posted_at           timestamptz,
    void_at             timestamptz,
    transaction_refresh text        not null,
    stripe_updated_at   timestamptz not null,
    inserted_at         timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);

create index transactions_account_id_transacted_at_idx on transactions (account_id, transacted_at, id);

---- create above / drop below ----

drop table transactions;
