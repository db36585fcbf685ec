-- 007_create_webhook_events: Stripe delivers webhooks at least once, possibly duplicated or
-- out of order. Recording each event id (evt_…) before acting on it lets the receiver
-- process an event once; a failed handler forgets the id so Stripe's redelivery is retried.
-- account_id has no foreign key: account.created arrives before the account row exists.
create table webhook_events (
    id          text        primary key,
    type        text        not null,
    account_id  text,
    received_at timestamptz not null default now()
);

---- create above / drop below ----

drop table webhook_events;
