-- 011_create_outcomes: what became of a loan, as the lender observed it later: repaid,
-- defaulted or charged_off, and the day it was observed. Decisions say what underwriter
-- predicted; outcomes are the labels that measure those predictions (AUC and KS of a
-- re-score) and train the next model (`underwriter train --from-db`).
--
-- One row per application, keyed by the application's key (applications.id, so an outcome
-- belongs to one lender's application); the foreign key refuses an outcome of an unknown
-- application. An outcome is the loan's final state: `underwriter outcomes import` stores
-- the same row again as a no-op and refuses another outcome or day for a stored one rather
-- than overwrite the label a trained model already saw.
create table outcomes (
    application_id text        primary key references applications (id) on delete cascade,
    outcome        text        not null check (outcome in ('repaid', 'defaulted', 'charged_off')),
    observed_on    date        not null,
    imported_at    timestamptz not null default now()
);

---- create above / drop below ----

-- Going down forgets every imported outcome; the files they came from import them again.

drop table outcomes;
