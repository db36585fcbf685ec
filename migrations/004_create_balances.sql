-- 004_create_balances: balance observations per account. A balance refresh reports one
-- balance at one as_of time; the key (account_id, as_of) makes a repeated write of the same
-- observation a no-op while keeping the history of earlier ones.
create table balances (
    account_id      text        not null references accounts (id) on delete cascade,
    as_of           timestamptz not null,
    current_minor   bigint      not null,
    available_minor bigint,
    currency        text        not null,
    type            text        not null check (type in ('cash', 'credit')),
    created_at      timestamptz not null default now(),
    primary key (account_id, as_of)
);

---- create above / drop below ----

drop table balances;
