package scoring

import (
	"strings"
	"unicode"
)

// Categorisation is configuration of the feature set (FeatureSetVersion): changing a
// pattern below changes features, so it requires a new FeatureSetVersion.

// nsfFeePatterns mark an NSF or overdraft FEE when found in the upper-cased
// description of an outflow. Bank wording varies ("OVERDRAFT FEE", "OD FEE",
// "NSF FEE", "INSUFFICIENT FUNDS FEE", "RETURNED ITEM FEE", "OVERDRAFT ITEM FEE").
var nsfFeePatterns = []string{
	"OVERDRAFT FEE", "OVERDRAFT ITEM FEE", "OD FEE", "OD ITEM FEE", "NSF",
	"INSUFFICIENT FUNDS", "RETURNED ITEM FEE", "OVERDRAWN",
}

// reversalWords mark a fee reversal when an INFLOW also matches nsfFeePatterns
// ("OVERDRAFT FEE REVERSAL", "NSF FEE REFUND").
var reversalWords = []string{"REVERSAL", "REVERSED", "REFUND", "REBATE", "WAIVED"}

// returnedItemPatterns mark a returned or dishonoured debit (D2) that is not itself a
// fee: the bank sends back a payment the account could not cover.
var returnedItemPatterns = []string{"RETURNED ITEM", "ACH RETURN", "RETURN OF POSTED CHECK"}

// transferPatterns support own-transfer matching between two linked accounts: at least
// one side of a matched pair must carry one of these words.
var transferPatterns = []string{"TRANSFER", "XFER", "TRNSFR"}

// containsAny reports whether any pattern occurs in s as whole words: both are
// upper-cased, punctuation becomes a space, and matching is on word boundaries, so
// "NSF" matches "NSF FEE" and "NSF-FEE" but not "TRANSFER".
func containsAny(s string, pats []string) bool {
	padded := " " + wordsOf(s) + " "
	for _, p := range pats {
		if strings.Contains(padded, " "+wordsOf(p)+" ") {
			return true
		}
	}
	return false
}

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

// isNSFFee reports whether t is an NSF/overdraft fee charged to the account.
func isNSFFee(t Transaction) bool {
	d := t.Description
	return t.Amount < 0 && containsAny(d, nsfFeePatterns) && !containsAny(d, reversalWords)
}

// isNSFReversal reports whether t gives back an NSF/overdraft fee.
func isNSFReversal(t Transaction) bool {
	d := t.Description
	return t.Amount > 0 && containsAny(d, nsfFeePatterns) && containsAny(d, reversalWords)
}

// isReturnedItem reports whether t is a returned or dishonoured debit (not a fee).
func isReturnedItem(t Transaction) bool {
	d := t.Description
	return containsAny(d, returnedItemPatterns) && !containsAny(d, []string{"FEE"})
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

// matchOwnTransfers returns the ids of posted transactions that are transfers between
// two of the ledger's own cash accounts (§1 "Own transfers"): the same absolute amount
// with opposite signs on two different accounts, dated at most
// ownTransferToleranceDays apart, with a transfer word in at least one description.
// Matching is greedy over txs in their normalised order (earliest first, nearest
// date), so it is deterministic. txs must be normalised and cash-only.
func matchOwnTransfers(txs []Transaction) map[string]bool {
	own := map[string]bool{}
	accounts := map[string]bool{}
	for _, t := range txs {
		accounts[t.AccountID] = true
	}
	if len(accounts) < 2 {
		return own
	}
	for i, out := range txs {
		if out.Amount >= 0 || out.Status != StatusPosted || own[out.ID] {
			continue
		}
		best, bestGap := -1, int64(ownTransferToleranceDays+1)
		dOut := dayOf(out.TransactedAt)
		for j, in := range txs {
			if j == i || in.Amount != -out.Amount || in.AccountID == out.AccountID ||
				in.Status != StatusPosted || own[in.ID] {
				continue
			}
			if !containsAny(out.Description, transferPatterns) &&
				!containsAny(in.Description, transferPatterns) {
				continue
			}
			gap := dayOf(in.TransactedAt) - dOut
			if gap < 0 {
				gap = -gap
			}
			if gap < bestGap {
				best, bestGap = j, gap
			}
		}
		if best >= 0 {
			own[out.ID] = true
			own[txs[best].ID] = true
		}
	}
	return own
}
