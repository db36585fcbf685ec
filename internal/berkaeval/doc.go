// Package berkaeval measures the scorecard on real bank data, as far as it goes: the
// Berka sample of the PKDD'99 financial data set in ../shared/data/berka (issue 8
// point 6; the folder's README describes the files). It is test harness: it imports
// ledger/csv and scoring, and no product package imports it.
//
// # Population
//
// Load reads loan.asc and keeps the loans whose account has at least MinHistoryDays of
// transactions in trans.asc before the loan date. Status B (finished, not paid) and D
// (running, client in debt) are defaults; A and C are not. Each loan's ledger holds
// only its account's rows dated strictly before the loan date, converted by
// csv.ConvertBerka (the code of `underwriter ledger import-csv --format berka`, which
// has no date cut, so the rows are filtered first) and read back with
// scoring.ParseLedgerFile. Features come from scoring.ComputeFeatures with the loan's
// amount (CZK: the ledger's one currency) and duration as the proposed loan, as of the
// day before the loan date — or trans.asc's last day (1994-03-30) for the loans
// granted later, which are most of them: their history stops up to ~19 months before
// the loan.
//
// # Evaluation
//
// Evaluate runs repeated stratified k-fold cross-validation of scoring.Train (one
// hold-out split of 17 defaults would be mostly noise): every loan is scored by the
// model trained on the other folds, and the AUC (scoring.AUC) of these out-of-fold
// scores, pooled over the folds, is averaged over the repeats. It also scores every
// loan with the shipped default model, without training. Both AUCs get a percentile
// bootstrap interval: resample the loans with replacement and recompute the AUC from
// the same scores. That interval is the noise of evaluating on so few loans; the
// spread of the repeats (also reported) shows how much the trained models themselves
// move.
//
// Report.Text prints the figures; the test logs them:
//
//	go test ./internal/berkaeval/ -run TestBerkaReport -v
package berkaeval
