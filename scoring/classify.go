package scoring

import (
	"strings"
	"unicode"
)

// transferPatterns support own-transfer matching between two linked accounts: at least
// one side of a matched pair must carry one of these words or be categorised
// CategoryTransfer. Part of FeatureSetVersion.
var transferPatterns = []string{"TRANSFER", "XFER", "TRNSFR"}

// wordsOf upper-cases s, replaces every rune that is not a letter or digit with a
// space and collapses runs of spaces.
func wordsOf(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToUpper(r)
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// normaliseDescription folds a description into a recurring-stream key (§3 step 1):
// upper case, tokens containing a digit dropped (dates, reference and check numbers,
// store numbers), punctuation other than '*', '&' and '.' turned into spaces, spaces
// collapsed. "ACME CORP PAYROLL PPD ID: 12345" → "ACME CORP PAYROLL PPD ID".
func normaliseDescription(s string) string {
	s = strings.ToUpper(s)
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '*' || r == '&' || r == '.' {
			return r
		}
		return ' '
	}, s)
	var keep []string
	for _, tok := range strings.Fields(s) {
		if strings.IndexFunc(tok, unicode.IsDigit) >= 0 {
			continue
		}
		tok = strings.Trim(tok, ".")
		if tok == "" {
			continue
		}
		keep = append(keep, tok)
	}
	return strings.Join(keep, " ")
}

// ownTransferToleranceDays is how far apart (in days) the two legs of a transfer
// between the applicant's own accounts may be dated: ACH between banks settles in 1–2
// business days, so 3 calendar days covers a weekend.
const ownTransferToleranceDays = 3

// matchOwnTransfers pairs the posted transactions that are transfers between two of
// the ledger's own cash accounts (§1 "Own transfers"): the same absolute amount with
// opposite signs on two different accounts, dated at most ownTransferToleranceDays
// apart, with at least one leg a transfer (transferish[i]). Matching is greedy over txs
// in their normalised order (earliest outflow first, nearest-dated inflow, earliest on
// ties), so it is deterministic. txs must be normalised, posted and cash-only; days[i]
// is the UTC day of txs[i]. The result is indexed like txs: the index of the other leg,
// or −1 for a transaction that is not an own transfer.
func matchOwnTransfers(txs []Transaction, days []int64, transferish []bool) []int {
	pair := make([]int, len(txs))
	for i := range pair {
		pair[i] = -1
	}
	multi := false
	for _, t := range txs {
		if t.AccountID != txs[0].AccountID {
			multi = true
			break
		}
	}
	if !multi {
		return pair
	}
	inflows := map[int64][]int{} // amount → indices of inflows, in order
	for j, t := range txs {
		if t.Amount > 0 {
			inflows[t.Amount] = append(inflows[t.Amount], j)
		}
	}
	for i, out := range txs {
		if out.Amount >= 0 || pair[i] >= 0 {
			continue
		}
		best, bestGap := -1, int64(ownTransferToleranceDays+1)
		for _, j := range inflows[-out.Amount] {
			in := txs[j]
			if in.AccountID == out.AccountID || pair[j] >= 0 || (!transferish[i] && !transferish[j]) {
				continue
			}
			gap := days[j] - days[i]
			if gap < 0 {
				gap = -gap
			}
			if gap < bestGap {
				best, bestGap = j, gap
			}
		}
		if best >= 0 {
			pair[i], pair[best] = best, i
		}
	}
	return pair
}
