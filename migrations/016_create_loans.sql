-- 016_create_loans: after the decision, a lender books the loan and underwriter watches the
-- borrower's accounts for early warnings (issue 14; README "After the loan",
-- docs/monitoring.md).
--
-- loans: one row per booked loan, keyed by its application (an application is booked at
-- most once; POST /v1/loans repeated with the same terms finds this row). lender_id is the
-- application's, copied so a lender's loans are one index lookup. instalment_minor is the
-- amount due each month from first_due on; the watcher's LOW_BALANCE rule compares the
-- balance with it. status starts 'active' and moves once to the reason the loan ended:
-- the lender closed it (repaid, charged_off, cancelled) or the watcher saw its term end
-- (term_ended); closed_at says when. workflow_id is the watcher's, monitor/<application id>.
-- The bounds are loan.Validate's (migration 009), so a loan booked through the Go client
-- cannot store what the API refuses.
--
-- loan_alerts: one row per early-warning event of a loan (scoring.Event), stored once:
-- event_key is the event's type and evidence (scoring.Event.Key), unique per loan, so a
-- check repeated by an activity retry or a replayed watcher stores nothing new. The row
-- carries what the lender's webhook sends (text, evidence, hint, the re-scored PD, the
-- monitoring policy version and the ledger clock of the check) and how its delivery went:
-- delivered_at once the lender's endpoint answered 2xx, the attempts so far and the last
-- error (an HTTP status or a network error, never the body or the secret).
--
-- lenders.alert_webhook_url: where a lender receives its alerts, null while it has none
-- (alerts are then stored and listed by GET /v1/loans/{id}/alerts, not sent). There is no
-- secret column: each lender's signing secret is derived from the master key the worker
-- reads from UNDERWRITER_ALERT_SIGNING_KEY (internal/alerthook.LenderSecret), so a copy of
-- the database cannot forge alerts.
create table loans (
    application_id   text        primary key references applications (id),
    lender_id        text        not null references lenders (id),
    amount_minor     bigint      not null check (amount_minor > 0 and amount_minor <= 10000000000),
    currency         text        not null check (currency ~ '^[a-z]{3}$'),
    term_months      int         not null check (term_months >= 1 and term_months <= 360),
    first_due        date        not null,
    instalment_minor bigint      not null check (instalment_minor > 0 and instalment_minor <= 10000000000),
    status           text        not null default 'active'
        check (status in ('active', 'repaid', 'charged_off', 'cancelled', 'term_ended')),
    booked_at        timestamptz not null default now(),
    closed_at        timestamptz,
    workflow_id      text        not null,
    check ((status = 'active') = (closed_at is null))
);

create index loans_lender_booked_idx on loans (lender_id, booked_at desc);

create table loan_alerts (
    id                        bigserial   primary key,
    application_id            text        not null references loans (application_id),
    event_type                text        not null,
    event_key                 text        not null,
    event_date                date        not null,
    text                      text        not null,
    evidence                  jsonb       not null default '[]',
    hint                      text        not null default '',
    rescore                   jsonb,
    monitoring_policy_version text        not null,
    ledger_as_of              timestamptz not null,
    created_at                timestamptz not null default now(),
    delivered_at              timestamptz,
    delivery_attempts         int         not null default 0,
    last_delivery_error       text,
    unique (application_id, event_key)
);

alter table lenders add column alert_webhook_url text;

---- create above / drop below ----

-- Going down forgets every booked loan and its alerts (their watchers, if still running,
-- fail their next store write) and every lender's alert URL.

alter table lenders drop column alert_webhook_url;
drop table loan_alerts;
drop table loans;
