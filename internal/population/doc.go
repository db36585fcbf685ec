// Package population is a synthetic population of loan applicants with known answers, and
// the harness that measures a scoring engine on it (issue 8's table). It is test harness:
// it imports ledger and scoring, and no product package imports it.
//
// # Applicants
//
// NewProfile(seed, i) draws applicant i's latent Traits, the loan it applies for, its
// true probability of default and the realised default label; NewApplicant(seed, i) adds
// its ledger. Generate(seed, n) returns applicants 0 … n−1. Everything is a pure function
// of (seed, i): each applicant has three splitmix64 streams of its own (traits, ledger,
// label), derived from the seed and the index, so applicant i is the same in a population
// of ten or of ten thousand, generation can run in parallel, and a change to how ledgers
// are written changes neither the traits nor the labels. splitmix64 is implemented here
// (not math/rand) so that populations do not change with the Go release.
//
// Traits (see Traits): the income type — salaried (weekly, biweekly, semi-monthly or
// monthly pay; raises, bonuses, overtime and job changes), gig (one to four of Uber,
// Lyft, DoorDash, Instacart, Upwork, Etsy, Shopify, Stripe and resale marketplaces, paid
// weekly, daily, in instant cash-outs or per project, in irregular amounts and dates),
// benefits (Social Security, SSI, pensions, VA, unemployment, on their real calendars)
// and salaried with a side gig — and the income level, regularity, spending against
// income, debt service (card payments, auto, student and personal loans, buy now pay
// later), savings (transfers to a savings account that is sometimes a second linked
// account, and money moved back when overdrawn), the overdraft habit (how far below zero
// the applicant spends, cash-advance apps) and the opening buffer. A latent
// financial-health factor moves spending, debt, savings and the overdraft habit
// together. Histories run 6 to 18 months; as-of times spread over two months before
// LatestAsOf.
//
// # Ledgers
//
// Ledgers are ledger.File values (Stripe Financial Connections objects, amount > 0 = money
// in). A day-by-day simulation posts each account's transactions in time order: card
// purchases are skipped below the applicant's spending floor; ACH debits overdraw or
// bounce by the bank's policy (per-item overdraft fees, NSF returns, or fee-free
// negative balances), with the bank's own fee wording and the occasional fee reversal.
// balance.current is the running balance after every posted transaction, all of which
// are dated before balance.as_of; pending card purchases (and now and then a pending
// payout) on the as-of morning lower cash.available; voided authorisations and the odd
// voided mobile deposit move nothing. Descriptions come from templates that vary the
// way bank statements vary ("UBER *PAYOUT", "DOORDASH DASHER DIRECT DEP", "Lyft Inc
// payments", "Upwork Escrow Inc", "ETSY INC DEPOSIT", "MAPLEBEAR INC PAYMENTS", "SSA
// TREAS 310 XXSOC SEC", "NYS DOL UI DD"…), written without regard to which of them
// scoring's category rules recognise.
//
// # Truth
//
// Applicant.Income lists every posted income deposit (pay, platform payouts, benefits);
// transfers between own accounts, loan proceeds, refunds, tax refunds, person-to-person
// payments, cash advances and interest are never income. TrueMonthlyIncome averages the
// deposits of the six newest complete calendar months inside the history, a deposit
// counting in the month it pays for (IncomeWindow, IncomeItem.Month).
//
// The true probability of default (TruePD) is logistic in the latent traits and in the
// loan's payment-to-income on the latent income (scoring.ProposedPayment at the policy
// APR): log-odds rise with lower income, irregularity, consumption and debt above 90 % of
// income, debt, the overdraft habit and the payment-to-income, and fall with savings
// and the buffer; the intercept is solved once, on 20,000 profiles of a fixed seed, so
// that the mean PD is TargetDefaultRate (13 %). The label is drawn from it.
//
// # Harness
//
// Evaluate underwrites one applicant with an engine (the shipped default when nil) as
// the pipeline would; Run does it for a population without keeping the ledgers;
// Summarise computes the table: the share of monthly_income_est within ±10 % of
// the true income per income type, the AUC of the score and of the true PD (and their
// ratio), the calibration error over score deciles, and, among applicants whose true
// PD is under 10 %, the approval rate per income type and its ratio to the salaried
// rate; plus diagnostics: outcomes and failed rules per type, and for every income
// source and description template how many deposits the category rules call income
// and how many sit in an active MATURE income stream. Report.Markdown renders it.
//
// The figures of the current default engine:
//
//	go test ./internal/population/ -run TestShippedModelTable -v
//
// (2,000 applicants; -population.n and -population.seed change the population).
package population
