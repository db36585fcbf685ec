-- 017_add_accounts_balance_read: what the latest read of an account at Stripe said about its
-- balance refresh, so that the balance that read returned (stored in balances) serves the
-- workflow's balance step without reading the account again (activities.StoreBalance).
-- balance_refresh_status and balance_refresh_attempted_at are Stripe's balance_refresh.status
-- and .last_attempted_at (null: none), balance_as_of the as_of of the balance the read
-- returned (null: none), balance_read_at when the read was recorded. A read never replaces
-- one of a later balance refresh (balance_refresh_attempted_at only moves forward), and a
-- read recorded before the account row's last upsert (updated_at) is not used: a worker
-- that does not record its reads (an older build) still moves updated_at when it stores a
-- refresh it asked for. All null until the first recorded read.
alter table accounts
    add column balance_refresh_status       text,
    add column balance_refresh_attempted_at timestamptz,
    add column balance_as_of                timestamptz,
    add column balance_read_at              timestamptz;

---- create above / drop below ----

alter table accounts
    drop column balance_read_at,
    drop column balance_as_of,
    drop column balance_refresh_attempted_at,
    drop column balance_refresh_status;
