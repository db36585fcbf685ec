// Package scoring turns a bank ledger (Stripe Financial Connections accounts and
// transactions) into cash-flow features, applies the knock-out policy and the points
// scorecard, and explains the decision with Regulation B style reasons.
//
// It is pure: no I/O, no clock, no randomness, no Stripe, Temporal or pgx types. The
// same inputs give byte-identical JSON of the Decision. Numerical work uses gonum
// (stat.Mean, stat.MeanStdDev, stat.Quantile on sorted copies, floats.Min); callers
// never see gonum types.
//
// # Conventions (feature set fs-v1)
//
//   - Money is int64 minor units of the ledger's single currency. Sign: amount > 0 is
//     money into the account (SignedAmount is the one Stripe→project conversion).
//     Inflow = amount when amount > 0; outflow = −amount when amount < 0; both ≥ 0.
//   - Only posted transactions of cash accounts (category "cash", or "") dated on or
//     before the cutoff day feed history features. Void is dropped, duplicates by id are
//     collapsed (Normalize); pending never enters history.
//   - Own transfers (same absolute amount, opposite signs, two linked accounts, ≤ 3 days
//     apart, a transfer word in a description) and NSF-fee reversals are excluded from
//     inflow and outflow.
//   - A day is a UTC calendar day. An N-day window is (cutoff − N days, cutoff].
//   - Monthly statistics use complete calendar months only (the cutoff's month only when
//     the cutoff is its last day), at most the last 6, and only months that start on or
//     after the oldest posted transaction.
//   - Undefined values are nil and listed in Features.Undefined. Nothing is NaN or ±Inf.
//     Thin or empty ledgers give features, not errors.
//
// # Daily balances
//
// DailyBalances reconstructs end-of-day balances backwards from balance.current at
// balance.as_of (EOD(D₀) = current; EOD(d−1) = EOD(d) − net_posted(d)); posted
// transactions dated after D₀ walk forward. Per cash account with a balance, and
// combined (the day-by-day sum).
//
// # Feature catalogue (json name — id — formula — unit — window — empty input)
//
//   - months_of_history — A1 — (day of newest − day of oldest posted txn) / 30.44 —
//     months (4 decimals) — full history ≤ cutoff — 0 when there are no txns.
//   - complete_months_with_txn — A1 — complete calendar months with ≥ 1 posted txn —
//     count — full — 0.
//   - days_since_last_txn — A2 — cutoff day − day of newest posted txn — days — – —
//     nil (undefined) when there are no txns.
//   - txn_count_inflow_90d, txn_count_outflow_90d — A5 — count of posted inflows /
//     outflows (own transfers and fee reversals excluded) — count — 90d — 0.
//   - inflow_total_30d, inflow_total_90d — B1 — Σ inflow, exact int64 — minor units —
//     30d / 90d — 0.
//   - outflow_total_30d, outflow_total_90d — B2 — Σ outflow — minor units — 30d / 90d — 0.
//   - own_transfer_count_90d — count of posted legs matched as own transfers — 90d — 0.
//   - monthly_cash_flow — B3/B4 — per complete month {month, inflow, outflow, net =
//     inflow − outflow} — minor units — ≤ 6 months — [] when no complete month.
//   - net_cash_flow_mean_6m, net_cash_flow_median_6m — B4 — stat.Mean of net;
//     stat.Quantile(0.5, Empirical) of the sorted nets — minor units (2 decimals) —
//     ≤ 6 complete months — nil when no complete month.
//   - avg_daily_balance_30d, avg_daily_balance_90d — C1 — stat.Mean of the combined EOD
//     series over all calendar days, weekends included — minor units (2 decimals) —
//     30d / 90d — nil when no cash account has a balance.
//   - min_eod_balance_90d — C2 — floats.Min of the combined EOD series — minor units —
//     90d — nil when no balance.
//   - days_negative_balance_90d — C4 — days with combined EOD < 0 — days — 90d — nil
//     when no balance.
//   - current_balance, current_available_balance — C6 — Σ balance.current and Σ
//     balance.cash.available over cash accounts at their as_of — minor units — point —
//     nil when no balance. An account without cash.available contributes its current
//     balance (no holds reported).
//   - nsf_od_fee_count_30d, nsf_od_fee_count_90d — D1 — NSF/overdraft fee outflows
//     minus fee-reversal inflows in the window, floored at 0 (description patterns in
//     classify.go) — count — 30d / 90d — 0.
//   - returned_item_count_90d — D2 — returned/dishonoured debits (not fees) — count —
//     90d — 0.
//   - days_since_last_nsf — D3 — cutoff day − day of the newest NSF/OD fee — days — –
//     — nil when there was none.
//   - income_streams — E1 — recurring inflow streams: group by normalised description,
//     split into ±20 % amount bands around the median, cadence from the median gap
//     (WEEKLY 6–8, BIWEEKLY 13–15, SEMI_MONTHLY 13–17 with two recurring days of month,
//     MONTHLY 28–33 days), MATURE with ≥ 3 occurrences within ±3 days of the median gap,
//     inactive when the predicted next date + 3 days is before the cutoff — full history
//     — [] when none.
//   - monthly_income_est — E2 — Σ monthly_amount of active MATURE streams
//     (average_amount over 180 days × 52/12, 26/12, 2 or 1) — minor units/month — 0 when
//     no income is detected.
//   - income_cv — E3 — sample std / mean (stat.MeanStdDev, n − 1) of monthly MATURE
//     stream income over the complete months — ratio (4 decimals) — ≤ 6 months — nil
//     with fewer than 2 complete months or a mean below 1 minor unit.
//   - large_deposit_count_60d — I1 — posted inflows in 60d, not own transfers, fee
//     reversals or MATURE stream members, of at least LargeDepositFloorMinor, that
//     exceed 50 % of monthly_income_est or mean + 2σ of the 90d inflows — count — 60d — 0.
//   - proposed_monthly_payment — H2 numerator — level payment amortising the loan at
//     PolicyAPR (24 %): P·r/(1 − (1+r)^−n), r = APR/12, rounded up — minor units/month.
//   - payment_to_income — H2 — proposed_monthly_payment / monthly_income_est — ratio (4
//     decimals) — nil when no income is detected.
//
// # Policy v1 and scorecard v1
//
// EvaluateRules records every knock-out rule as {rule, actual, threshold, passed,
// action, operational}; see policy.go for thresholds and the reasoning behind each.
// Scorecard lists the seven characteristics, their bins (in original units) and
// points; BasePoints 430 plus at most 325 points gives scores 430…755, scaled so that
// 600 points means 30:1 good:bad odds and 20 points double the odds (PDFromScore).
// Decide combines them: a failed operational rule (STALE_DATA, ACCOUNT_NOT_ACTIVE)
// refers, else a failed decline rule declines, else a failed refer rule refers, else
// the score band decides (≥ 620 approve, ≥ 580 refer, else decline). Reasons are at
// most four: failed rules first, then characteristics by points lost against their
// maximum.
//
// # Personas
//
// The sample ledgers in testdata/personas are written by internal/personagen from
// fixed seeds; regenerate them with "go generate ./scoring/" (or "go run
// ./internal/personagen -out testdata/personas" from the module root).
// TestGeneratedFilesAreCommitted checks that the committed files are current, and
// TestPersonaOutcomes checks every expected outcome under many time shifts.
//
//go:generate go run ../internal/personagen -out ../testdata/personas
package scoring
