// Package scoring turns a bank ledger (Stripe Financial Connections accounts and
// transactions) into cash-flow features, applies the knock-out policy and the points
// scorecard, and explains the decision with Regulation B style reasons.
//
// It is pure: no I/O, no clock, no randomness, no Stripe, Temporal or pgx types. The
// same inputs give byte-identical JSON of the Decision. Numerical work uses gonum
// (stat.Mean, stat.MeanStdDev, stat.Quantile on sorted copies, floats.Min); callers
// never see gonum types.
//
// The feature catalogue, the recurring-stream rules, the policy rules and the
// adverse-action rules are in docs/features.md; a section mark in this package's
// comments (§3, "§3 step 1") is a section of that document.
//
// # Feature sets
//
// A feature set is one version of the definitions below (docs/features.md §6.1), and
// Features.FeatureSetVersion records it as "<feature set>/<rules version>". Every set
// ever shipped stays computable: the code is shared, and what differs between sets is
// data (featureSet: the embedded category rules file, the income estimator, the
// never-income, explained and transfer categories, the cadence rules, and whether the
// fields tagged `fs:"v3"` exist). ComputeFeatures computes the default, fs-v3/cat-v2
// (FeatureSetVersion); FeatureOptions.FeatureSet or FeatureOptionsFor(version) select
// another. An Engine computes the feature set its model declares: scorecard v1 declares
// fs-v2/cat-v1 (FeatureSetV2), so every past decision re-scores exactly. An fs-v2
// vector's JSON omits the fs-v3 fields (Features.MarshalJSON), so it is byte for byte
// what fs-v2's code wrote; the golden vectors in testdata/golden pin it.
//
// fs-v3 differs from fs-v2 in: the cat-v2 rules; income from every source (E2, E8);
// monthly income (E3–E5, B5) and days_since_last_income (E7) from recognised income;
// I1 without recognised income; interest, transfers, savings withdrawals, tax refunds
// and loan proceeds never forming income streams; the calendar semi-monthly test and
// the n-th-weekday prediction of MONTHLY streams; and the fs-v3 features B6, C7–C9, D4,
// E8 and H4–H7.
//
// # Conventions
//
//   - Money is int64 minor units of the ledger's single currency. Sign: amount > 0 is
//     money into the account (SignedAmount is the one Stripe→project conversion).
//     Inflow = amount when amount > 0; outflow = −amount when amount < 0; both ≥ 0.
//   - Normalize: duplicates by Stripe id are collapsed (void beats posted beats
//     pending), void is dropped, transactions are sorted, one currency per ledger
//     (ErrMixedCurrency otherwise). Only posted transactions of cash accounts
//     (category "cash", or "") dated on or before the cutoff day feed history
//     features; pending ones feed only pending_txn_count / pending_net_amount.
//   - Categorisation: every history transaction gets one Category from versioned,
//     data-driven rules (rules/categories-v1.json and categories-v2.json, embedded and
//     frozen once used; EmbeddedCategoryRules, LoadCategoryRules, MergeCategoryRules,
//     LoadUserCategoryRules). The rules version is part of the feature-set version:
//     "<feature set>/" + rules version (+ stream options when not the defaults),
//     recorded in Features.feature_set_version.
//   - Own transfers (same absolute amount, opposite signs, two linked cash accounts,
//     ≤ 3 days apart, one leg categorised "transfer" (fs-v3 also savings_transfer or
//     savings_withdrawal) or carrying TRANSFER/XFER/TRNSFR)
//     and NSF/overdraft fee reversals are excluded from inflow and outflow ("flows").
//   - A day is a UTC calendar day. An N-day window is (cutoff − N days, cutoff].
//   - Monthly statistics use complete calendar months only (the cutoff's month only
//     when the cutoff is its last day), and only months that start on or after the
//     oldest posted transaction. "k m" means the last k such months (fewer when the
//     history is shorter).
//   - Undefined values are nil and listed, sorted, in Features.Undefined (a test checks
//     that Undefined equals the set of null fields). Nothing is NaN or ±Inf. Thin or
//     empty ledgers give features, not errors. Ratios are rounded to 4 decimals, money
//     means to 2 decimals of a minor unit.
//
// # Categories (rules/categories-v1.json, rules/categories-v2.json)
//
// cat-v2 (the default) adds tax_refund, loan_proceeds, savings_transfer and
// savings_withdrawal to cat-v1's payroll, benefits (government benefits and pensions),
// gig_income, interest, refund,
// nsf_fee, overdraft_fee, nsf_fee_reversal, overdraft_fee_reversal, returned_item,
// loan_payment, card_payment, bnpl, payday_lender, mca, collections, gambling, rent,
// utilities, insurance, subscription, cash_withdrawal, cash_deposit, transfer, and
// uncategorised when no rule matches. A rule is {id, category, direction
// (inflow|outflow|any), priority, keywords (AND of OR-groups of whole-word phrases),
// exclude, regex (RE2 on the upper-cased description), min_amount, max_amount
// (absolute minor units)}; the highest priority wins, ties by id. Feature groups:
// debt service = loan_payment, card_payment, bnpl, payday_lender, mca; obligations =
// rent, utilities, insurance, subscription; never income = fee reversals,
// returned_item, refund, payday_lender (fs-v3 adds interest, transfer,
// savings_withdrawal, tax_refund, loan_proceeds); income (fs-v3) = payroll, benefits,
// gig_income. cat-v2 covers platform payouts under brand and company names (UBR*,
// MAPLEBEAR, Etsy, Shopify, Stripe, marketplaces, "PAYOUT"), state unemployment
// agencies (UI, UC, DOL, DEO, EDD…), pensions and annuities, payroll in ACH wordings
// (DES:, NET PAY, PAYRLL), courtesy-pay and unnamed fee reversals, savings products,
// card issuers with a payment word, and lenders by name.
//
// # Daily balances
//
// DailyBalances reconstructs end-of-day balances backwards from balance.current at
// balance.as_of (EOD(D₀) = current; EOD(d−1) = EOD(d) − net_posted(d)); posted
// transactions dated after D₀ walk forward. Per cash account with a balance, and
// combined (the day-by-day sum). Days before the oldest transaction keep the oldest
// reconstructed balance. The features use the combined series over the 180 days
// ending on the cutoff day.
//
// # Recurring streams (E1, F2)
//
// Flows of one direction (inflows without "never income" categories; all outflows) are
// grouped by normalised description (upper case, tokens with digits dropped), then
// split into amount bands of ±20 % (inflows) or ±15 % (outflows) around the remaining
// median (StreamOptions). Cadence from the median gap (stat.Quantile Empirical):
// WEEKLY 6–8, BIWEEKLY 13–15, SEMI_MONTHLY 13–17 with two recurring days of month and
// not weekday-locked (fs-v2: semiMonthlyPattern; fs-v3: semiMonthlyCalendar), MONTHLY
// 28–33 days, else UNKNOWN (dropped). MATURE with ≥ 3
// occurrences within ±3 days of the median gap; EARLY_DETECTION otherwise;
// TOMBSTONED (dropped) when an early stream's predicted next date + 3 days is before
// the cutoff; is_active false when a MATURE stream missed its date (fs-v3 expects a
// MONTHLY stream whose gaps are whole weeks on the same n-th weekday). Each stream
// records direction, category (most frequent), frequency, status, is_active,
// first/last/predicted next date, median gap, occurrences, average_amount (mean
// magnitude over the last 180 days), last_amount, monthly_amount (× 52/12, 26/12, 2
// or 1) and transaction_ids.
//
// # Feature catalogue (json name — id — formula — unit — window — empty input)
//
// Versions and context:
//   - feature_set_version, category_rules_version — the definitions used.
//   - cutoff, currency, balance_as_of, cash_accounts, inactive_accounts,
//     posted_txn_count (posted cash txns ≤ cutoff), pending_txn_count and
//     pending_net_amount (Σ signed pending cash amounts; the only place pending
//     appears) — 0 / "" when empty.
//
// A. History and activity:
//   - months_of_history — A1 — (day of newest − day of oldest posted txn) / 30.44 —
//     months — full — 0 when there are no txns.
//   - complete_months_with_txn — A1 — complete calendar months with ≥ 1 posted txn —
//     count — full — 0.
//   - days_since_last_txn, days_since_last_inflow, days_since_last_outflow — A2 —
//     cutoff day − day of the newest posted txn (of that sign) — days — – — nil when
//     there is none.
//   - longest_gap_days — A3 — max difference between consecutive distinct posted-txn
//     days — days — full — nil with fewer than two txn days. Per month:
//     monthly_cash_flow[].longest_gap_days (gaps attributed to the month of their later
//     day; 0 when none).
//   - days_without_txn — A4 — days in [oldest txn day, cutoff] without a posted txn —
//     days — full — nil with no txns. days_without_txn_90d — same over the 90d window
//     — days — 90d — 90 with no txns.
//   - txn_count_{inflow,outflow}_{30,60,90}d — A5 — count of flows by sign — count —
//     30/60/90d — 0.
//
// B. Flows:
//   - inflow_total_{30,60,90}d — B1 — Σ inflow of flows, exact int64 — minor units —
//     30/60/90d — 0. outflow_total_{30,60,90}d — B2 — the same for outflows.
//   - own_transfer_count_90d — posted legs matched as own transfers — count — 90d — 0.
//   - monthly_cash_flow — B3 — per complete month (≤ 12, oldest first) {month, inflow,
//     outflow, net = inflow − outflow, income (MATURE income-stream occurrences),
//     obligations (obligation + debt-service outflows), debt_payments, txn_count,
//     longest_gap_days} — minor units — [] when no complete month.
//   - savings_transfer_net_monthly_6m (fs-v3) — B6 — stat.Mean over months of money
//     moved to savings (savings_transfer outflows, own-transfer legs into a linked
//     savings account) less money moved back, on accounts other than savings accounts
//     — minor units/month — 6 m — nil without a complete month.
//   - net_cash_flow_mean_{3,6,12}m, net_cash_flow_median_{3,6,12}m — B4 — stat.Mean of
//     monthly net; stat.Quantile(0.5, Empirical) of the sorted nets — minor units —
//     last 3/6/12 complete months — nil when no complete month.
//   - free_cash_flow_avg_{3,6}m — B5 — stat.Mean over months of (income −
//     obligations), obligations being recurring obligations, essential spend and debt
//     service by category — minor units — 3/6 m — nil when no complete month.
//
// C. Balances (combined EOD series of cash accounts with a balance):
//   - avg_daily_balance_{30,90,180}d — C1 — stat.Mean of EOD over all calendar days,
//     weekends included — minor units — 30/90/180d — nil when no balance.
//   - min_eod_balance_{30,90}d — C2 — floats.Min of EOD — minor units — nil when no
//     balance.
//   - eod_balance_p{10,50,90}_{30d,60d,90d,31_60d,61_90d} — C3 — stat.Quantile(p,
//     Empirical) of the sorted EOD values (an observed value) — minor units — the
//     last 30/60/90 days, days 31–60 and 61–90 before the cutoff — nil when no balance.
//   - days_negative_balance_{30,90}d — C4 — days with EOD < 0 — days — nil when no
//     balance.
//   - balance_trend_ratio_{30,60,90}d — C5 — EOD(cutoff) / EOD(cutoff − N) — ratio —
//     nil when no balance or the denominator ≤ 0.
//   - current_balance, current_available_balance — C6 — Σ balance.current and Σ
//     balance.cash.available at as_of (an account without cash.available contributes
//     its current balance) — minor units — point — nil when no balance.
//   - savings_balance_change_90d (fs-v3) — C7 — EOD(c) − EOD(c − 90) of the linked
//     savings accounts, summed — minor units — 90d — nil without one with a balance.
//   - cash_buffer_days (fs-v3) — C8 — avg_daily_balance_30d / (spend90 / 90), spend90
//     = outflow_total_90d less savings_transfer flows — days, 2 decimals — nil without
//     a balance or when spend90 = 0.
//   - negative_balance_day_share_180d (fs-v3) — C9 — days with EOD < 0 / 180 — ratio
//     — 180d — nil without a balance.
//
// D. Distress:
//   - nsf_od_fee_count_{30,60,90}d, nsf_od_fee_count_total — D1 — nsf_fee +
//     overdraft_fee txns minus fee reversals in the same window, floored at 0 — count
//     — 30/60/90d, full — 0.
//   - returned_item_count_90d — D2 — returned_item txns (not fees) — count — 90d — 0.
//   - days_since_last_nsf — D3 — cutoff − day of the newest NSF/OD fee — days — nil
//     when none.
//   - nsf_od_fee_months_6m (fs-v3) — D4 — complete months whose NSF/OD fees outnumber
//     the month's fee reversals — count — 6 m — nil without a complete month.
//
// E. Income:
//   - income_streams, outflow_streams — E1 — recurring streams (above), sorted by
//     monthly amount descending — [] when none.
//   - monthly_income_est — E2 — fs-v2: Σ monthly_amount of active MATURE income
//     streams; fs-v3: income from every source (estimateIncome, docs/features.md §3.1):
//     the monthly amounts of the streams of regular payers plus the other recognised
//     income averaged over income_months_used, 0 when no income is current — minor
//     units/month — 0 when none.
//   - income_regular_monthly, income_irregular_monthly, income_regular_share,
//     income_sources, income_confidence, income_months_used (fs-v3) — E8 — the parts of
//     E2: regular streams, irregular income by category, their sum's regular share
//     (4 decimals), each source with its monthly amount, high/medium/low/none, the
//     months (YYYY-MM) averaged over — 0, 0, nil, [], "none", [] when there is no income.
//   - income_cv — E3 — sample std / mean (stat.MeanStdDev, n − 1) of monthly income
//     (MATURE income-stream occurrences; fs-v3: recognised income deposits) —
//     ratio — 6 m — nil with < 2 months or a mean below 1 minor unit.
//   - income_consistency — E4 — share of months with income > 0 and ≥ 80 % of the
//     median month (stat.Quantile Empirical) — 0–1 — 12 m — nil when no complete month.
//   - consecutive_income_months — E5 — run of complete months with income > 0 ending
//     at the newest complete month — months — full — 0.
//   - payroll_share_of_inflow_90d — E6 — Σ payroll inflow / inflow_total_90d — ratio
//     — 90d — nil when inflow_total_90d = 0.
//   - days_since_last_income, next_income_date — E7 — from the primary MATURE income
//     stream (largest active one, else largest): cutoff − last_date (fs-v3: cutoff −
//     day of the newest recognised income deposit); its predicted_next_date — days;
//     YYYY-MM-DD — nil when no MATURE stream (fs-v3: days nil without income).
//
// F. Obligations:
//   - debt_payments_monthly — F1 — mean over months of debt-service outflows
//     (loan, card, BNPL, payday, MCA) — minor units/month — 3 m — nil when no
//     complete month.
//   - recurring_obligations_monthly — F2 — Σ monthly_amount of active MATURE outflow
//     streams categorised rent, utilities, insurance or subscription (debt streams are
//     in F1) — minor units/month — 0 when none.
//
// G. Volatility and trend:
//   - inflow_cv_6m, outflow_cv_6m, net_flow_cv_6m — G1 — std / |mean| of the monthly
//     series (stat.MeanStdDev) — ratio — 6 m — nil with < 2 months, |mean| < 1 minor
//     unit, or (net) a series that changes sign. inflow_std_6m, outflow_std_6m,
//     net_flow_std_6m — the std itself — minor units — nil with < 2 months.
//   - balance_volatility_90d — G2 — stat.StdDev of EOD / ADB — ratio — 90d — nil when
//     no balance or ADB < 1 minor unit. balance_iqr_90d — G2 robust — Q(0.75) −
//     Q(0.25) of EOD (Empirical) — minor units — nil when no balance.
//   - net_flow_trend_slope_6m — G3 — stat.LinearRegression beta of monthly net on the
//     month index, / mean monthly inflow — ratio (1/month) — 6 m — nil with < 3
//     months or mean inflow < 1 minor unit.
//   - cash_flow_trend_{30,60,90}d — G4 — (mean daily net flow of the older half −
//     mean of the newer half) / stat.StdDev of all N daily nets; positive means
//     declining — ratio — 30/60/90d — nil with no txns or zero std.
//
// H. Affordability:
//   - loan_amount, loan_term_months, policy_apr; proposed_monthly_payment — H2
//     numerator — level payment amortising the loan at PolicyAPR (24 %):
//     P·r/(1 − (1+r)^−n), r = APR/12, rounded up — minor units/month.
//   - dscr_requested — H1 — (monthly_income_est − recurring_obligations_monthly −
//     debt_payments_monthly) / proposed_monthly_payment — ratio — nil when
//     debt_payments_monthly is nil.
//   - payment_to_income — H2 — proposed_monthly_payment / monthly_income_est — ratio —
//     nil when no income is detected.
//   - residual_income_after_payment — H3 — monthly_income_est − obligations − debt
//     payments − proposed payment — minor units/month — nil when
//     debt_payments_monthly is nil.
//   - debt_to_income, obligations_to_income (fs-v3) — H4, H5 — debt_payments_monthly,
//     and it plus recurring_obligations_monthly, / monthly_income_est — ratio — nil
//     when the income is 0 or debt_payments_monthly is nil.
//   - spend_to_income_6m (fs-v3) — H6 — stat.Mean over months of (outflow − money put
//     into savings products) / monthly_income_est — ratio — 6 m — nil when the income
//     is 0 or without a complete month.
//   - savings_rate_6m (fs-v3) — H7 — savings_transfer_net_monthly_6m /
//     monthly_income_est — ratio — nil when the income is 0 or B6 is nil.
//
// I. Other risk:
//   - large_deposit_count_{60,90}d — I1 — inflow flows in the window, not MATURE
//     income occurrences nor "never income" categories (fs-v3: not recognised income,
//     refunds, tax refunds, interest, savings withdrawals), ≥ LargeDepositFloorMinor, that
//     exceed 50 % of monthly_income_est or mean + 2σ (stat.MeanStdDev) of the 90d
//     inflows — count — 60/90d — 0.
//   - cash_deposit_share_90d — I2 — Σ cash_deposit inflow / inflow_total_90d — ratio —
//     90d — nil when inflow_total_90d = 0.
//   - risk_outflow_{gambling,payday,mca,collections}_90d — I3 — Σ outflow in each
//     category — minor units — 90d — 0.
//   - account_age_days — I4 — always nil: FC v76 exposes no opening date
//     (Account.Created is the link time).
//   - inflow_by_category_90d, outflow_by_category_90d — Σ flows per category — minor
//     units — 90d — {} when none.
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
// The sample ledgers in fcsandbox/personas (built into the binary) are written by
// cmd/personagen from fixed seeds; regenerate them with "go generate ./fcsandbox/".
// TestGeneratedFilesAreCommitted checks that the committed files are current, and
// TestPersonaOutcomes checks every expected outcome under many time shifts.
package scoring
