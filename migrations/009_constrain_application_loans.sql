-- 009_constrain_application_loans: the applications table checks a loan request against
-- the bounds of loan.Validate (loan/validate.go), which the API and the workflow apply
-- before they store one: 0 < loan_amount_minor <= 10000000000 (loan.MaxAmountMinor, 100
-- million in major units), 1 <= term_months <= 360 (loan.MaxTermMonths) and a currency of
-- three lowercase letters. Until now only amount > 0 and term > 0 were checked here, so a
-- workflow started with the Go client could store a 400-month term the API refuses.
-- TestApplicationLoanBounds keeps these numbers equal to loan's.
--
-- Rows a workflow stored before it validated its input may name no currency or spell it
-- in capitals: they get the API's default (usd) and its spelling. A row outside the amount
-- or term bounds stops the migration, Postgres naming the constraint: correct or delete
-- that application by hand, then migrate again.
update applications set currency = 'usd' where currency = '';
update applications set currency = lower(currency) where currency <> lower(currency);

alter table applications
    drop constraint applications_loan_amount_minor_check,
    drop constraint applications_term_months_check,
    add constraint applications_loan_amount_minor_check
        check (loan_amount_minor > 0 and loan_amount_minor <= 10000000000),
    add constraint applications_term_months_check
        check (term_months >= 1 and term_months <= 360),
    add constraint applications_currency_check
        check (currency ~ '^[a-z]{3}$');

---- create above / drop below ----

-- Going down restores 001's checks, which every row that passed these passes too; the
-- currencies 009 filled in or lower-cased stay as they are.

alter table applications
    drop constraint applications_currency_check,
    drop constraint applications_term_months_check,
    drop constraint applications_loan_amount_minor_check,
    add constraint applications_loan_amount_minor_check check (loan_amount_minor > 0),
    add constraint applications_term_months_check check (term_months > 0);
