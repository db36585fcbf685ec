package ledger

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// scanFile decodes data into a File exactly as json.Unmarshal(data, &f) would, for the
// ledger files it understands, several times faster: one pass over the bytes, no
// reflection, and strings that are slices of one copy of data instead of one allocation
// each. ok is false when it does not understand the input; Parse then decodes it with
// encoding/json, which gives the result, or the error, it always gave. Input it leaves to
// encoding/json:
//
//   - anything that is not well-formed JSON, and any value of the wrong type (encoding/json
//     words the error);
//   - a top level that is not an object, or content after it;
//   - a known key written in other letter case, with an escape or in non-ASCII
//     (encoding/json matches keys case-insensitively, with Unicode folding);
//   - a key repeated in one object (encoding/json merges or replaces);
//   - a transaction that is null, or whose amount is null;
//   - numbers for integer fields that are not plain integers within int64;
//   - nesting deeper than maxScanDepth in an unknown field.
//
// Strings with escapes or bytes beyond ASCII are decoded by encoding/json one at a time,
// so that escapes and invalid UTF-8 turn out as they always did. FuzzScanFile checks the
// equivalence.
func scanFile(data []byte) (f File, ok bool) {
	s := scanner{data: data, str: string(data), txnHint: len(data)/txnBytesEstimate + 16}
	s.ws()
	if !s.fileObject(&f) {
		return File{}, false
	}
	s.ws()
	if s.pos != len(s.data) {
		return File{}, false
	}
	return f, true
}

// txnBytesEstimate is a little less than a transaction takes in a file as Stripe or the
// pipeline writes it (about 370 bytes compact, more indented), so that len(data) divided
// by it is rather more than the transactions a file holds than fewer.
const txnBytesEstimate = 300

// maxScanDepth bounds the nesting of skipped values; deeper input goes to encoding/json.
const maxScanDepth = 200

// scanner reads JSON from data; str is data as one string, so that decoded strings can
// be its substrings.
type scanner struct {
	data []byte
	str  string
	pos  int
	// txnHint is about how many transactions the file may still hold: the capacity of
	// the next transactions array, so that it is allocated once, not grown and copied.
	txnHint int
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next byte after white space (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

// consume skips white space and c, reporting whether c was there.
func (s *scanner) consume(c byte) bool {
	if s.peek() != c {
		return false
	}
	s.pos++
	return true
}

// null consumes a null literal when one is next.
func (s *scanner) null() bool {
	if s.peek() == 'n' && s.pos+4 <= len(s.data) && s.str[s.pos:s.pos+4] == "null" {
		s.pos += 4
		return true
	}
	return false
}

// rawString reads a string and returns its raw contents (between the quotes) and
// whether they hold an escape or a byte beyond ASCII.
func (s *scanner) rawString() (start, end int, special, ok bool) {
	if !s.consume('"') {
		return 0, 0, false, false
	}
	start = s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		if plainStringByte[c] {
			s.pos++
			continue
		}
		switch {
		case c == '"':
			end = s.pos
			s.pos++
			return start, end, special, true
		case c == '\\':
			special = true
			s.pos++
			if s.pos >= len(s.data) {
				return 0, 0, false, false
			}
			if s.data[s.pos] == 'u' {
				if s.pos+4 >= len(s.data) {
					return 0, 0, false, false
				}
				for _, h := range s.data[s.pos+1 : s.pos+5] {
					if !isHex(h) {
						return 0, 0, false, false
					}
				}
				s.pos += 5
				continue
			}
			switch s.data[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos++
			default:
				return 0, 0, false, false
			}
		case c < 0x20:
			return 0, 0, false, false
		default:
			if c >= utf8.RuneSelf {
				special = true
			}
			s.pos++
		}
	}
	return 0, 0, false, false
}

// plainStringByte marks the bytes that stand for themselves inside a string: ASCII
// other than control characters, the quote and the backslash.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// string reads a string value the way encoding/json decodes it.
func (s *scanner) string() (string, bool) {
	start, end, special, ok := s.rawString()
	if !ok {
		return "", false
	}
	if !special || utf8.Valid(s.data[start:end]) && !hasBackslash(s.data[start:end]) {
		return s.str[start:end], true
	}
	var v string // escapes and invalid UTF-8: encoding/json's own rules
	if err := json.Unmarshal(s.data[start-1:end+1], &v); err != nil {
		return "", false
	}
	return v, true
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// key reads an object key followed by its colon. Keys that need encoding/json's
// matching (escapes, non-ASCII) are refused.
func (s *scanner) key() (string, bool) {
	start, end, special, ok := s.rawString()
	if !ok || special || !s.consume(':') {
		return "", false
	}
	return s.str[start:end], true
}

// unknown reports whether an unknown key k is safe to skip: encoding/json would match
// it to one of the known names if it equals one in another letter case.
func unknown(k string, known ...string) bool {
	for _, n := range known {
		if len(n) == len(k) && asciiEqualFold(n, k) {
			return false
		}
	}
	return true
}

func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// object reads an object, calling field for each key with the scanner before its
// value; field consumes the value and reports whether it could. A repeated key is refused.
func (s *scanner) object(field func(k string) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	var buf [16]string
	seen := buf[:0] // the keys so far; on the stack for objects of up to 16 keys
	for {
		k, ok := s.key()
		if !ok {
			return false
		}
		for _, p := range seen {
			if p == k {
				return false
			}
		}
		seen = append(seen, k)
		if !field(k) {
			return false
		}
		if s.consume(',') {
			continue
		}
		return s.consume('}')
	}
}

// array reads an array, calling elem for each element with the scanner before it.
func (s *scanner) array(elem func() bool) bool {
	if !s.consume('[') {
		return false
	}
	if s.consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.consume(',') {
			continue
		}
		return s.consume(']')
	}
}

// int64 reads an integer (or null, which leaves *v as it is).
func (s *scanner) int64(v *int64) bool {
	if s.null() {
		return true
	}
	n, ok := s.integer()
	*v = n
	return ok
}

// integer reads a JSON number that is a plain integer within int64.
func (s *scanner) integer() (int64, bool) {
	s.ws()
	start := s.pos
	if s.pos < len(s.data) && s.data[s.pos] == '-' {
		s.pos++
	}
	digits := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	switch {
	case s.pos == digits, s.pos-digits > 1 && s.data[digits] == '0':
		return 0, false // no digits, or a leading zero (a syntax error)
	case s.pos < len(s.data) && (s.data[s.pos] == '.' || s.data[s.pos] == 'e' || s.data[s.pos] == 'E'):
		return 0, false // a fraction or exponent: encoding/json refuses it for an integer
	}
	n, err := strconv.ParseInt(s.str[start:s.pos], 10, 64)
	return n, err == nil
}

// optInt64 reads an integer into a new *int64, or null into nil.
func (s *scanner) optInt64(v **int64) bool {
	if s.null() {
		return true
	}
	n, ok := s.integer()
	*v = &n
	return ok
}

// strField reads a string (or null, which leaves *v as it is).
func (s *scanner) strField(v *string) bool {
	if s.null() {
		return true
	}
	var ok bool
	*v, ok = s.string()
	return ok
}

func (s *scanner) boolean(v *bool) bool {
	switch {
	case s.null():
		return true
	case s.peek() == 't' && s.pos+4 <= len(s.data) && s.str[s.pos:s.pos+4] == "true":
		s.pos += 4
		*v = true
		return true
	case s.peek() == 'f' && s.pos+5 <= len(s.data) && s.str[s.pos:s.pos+5] == "false":
		s.pos += 5
		*v = false
		return true
	}
	return false
}

// strings reads an array of strings (null leaves *v nil; [] is an empty, non-nil slice,
// as encoding/json makes it).
func (s *scanner) strings(v *[]string) bool {
	if s.null() {
		return true
	}
	*v = []string{}
	return s.array(func() bool {
		var e string
		if !s.strField(&e) {
			return false
		}
		*v = append(*v, e)
		return true
	})
}

// amounts reads a map of currency to amount.
func (s *scanner) amounts(v *map[string]int64) bool {
	if s.null() {
		return true
	}
	m := map[string]int64{}
	*v = m
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		k, ok := s.string()
		if !ok || !s.consume(':') {
			return false
		}
		var n int64
		if !s.int64(&n) {
			return false
		}
		m[k] = n // a repeated key: the last wins, as in encoding/json
		if s.consume(',') {
			continue
		}
		return s.consume('}')
	}
}

// skip reads and discards any well-formed value.
func (s *scanner) skip(depth int) bool {
	if depth > maxScanDepth {
		return false
	}
	switch c := s.peek(); {
	case c == '{':
		s.pos++
		if s.consume('}') {
			return true
		}
		for {
			if _, _, _, ok := s.rawString(); !ok || !s.consume(':') || !s.skip(depth+1) {
				return false
			}
			if s.consume(',') {
				continue
			}
			return s.consume('}')
		}
	case c == '[':
		return s.array(func() bool { return s.skip(depth + 1) })
	case c == '"':
		_, _, _, ok := s.rawString()
		return ok
	case c == 't' || c == 'f':
		var b bool
		return s.boolean(&b)
	case c == 'n':
		return s.null()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return false
}

// number reads a JSON number of any form.
func (s *scanner) number() bool {
	d := s.data
	if s.pos < len(d) && d[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(d) && d[s.pos] == '0':
		s.pos++
	case s.pos < len(d) && d[s.pos] >= '1' && d[s.pos] <= '9':
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
		}
	default:
		return false
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if !s.digits() {
			return false
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

func (s *scanner) digits() bool {
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos > start
}

func (s *scanner) fileObject(f *File) bool {
	return s.object(func(k string) bool {
		switch k {
		case "accounts":
			if s.null() {
				return true
			}
			f.Accounts = []Entry{}
			return s.array(func() bool {
				if s.peek() != '{' {
					return false // null or another type: encoding/json's rules
				}
				f.Accounts = append(f.Accounts, Entry{})
				return s.entry(&f.Accounts[len(f.Accounts)-1])
			})
		}
		return unknown(k, "accounts") && s.skip(0)
	})
}

func (s *scanner) entry(e *Entry) bool {
	return s.object(func(k string) bool {
		switch k {
		case "account":
			if s.null() {
				return true
			}
			return s.account(&e.Account)
		case "transactions":
			if s.null() {
				return true
			}
			e.Transactions = make([]Transaction, 0, max(s.txnHint, 0))
			ok := s.array(func() bool {
				if s.peek() != '{' {
					return false
				}
				e.Transactions = append(e.Transactions, Transaction{amountMissing: true})
				return s.transaction(&e.Transactions[len(e.Transactions)-1])
			})
			s.txnHint -= len(e.Transactions)
			return ok
		}
		return unknown(k, "account", "transactions") && s.skip(0)
	})
}

var accountKeys = []string{"id", "object", "account_holder", "balance", "balance_refresh", "category", "created",
	"display_name", "institution_name", "last4", "livemode", "ownership", "ownership_refresh", "permissions", "status",
	"subcategory", "subscriptions", "supported_payment_method_types", "transaction_refresh"}

func (s *scanner) account(a *Account) bool {
	return s.object(func(k string) bool {
		switch k {
		case "id":
			return s.strField(&a.ID)
		case "object":
			return s.strField(&a.Object)
		case "account_holder":
			if s.null() {
				return true
			}
			a.AccountHolder = &AccountHolder{}
			return s.object(func(k string) bool {
				switch k {
				case "customer":
					return s.strField(&a.AccountHolder.Customer)
				case "type":
					return s.strField(&a.AccountHolder.Type)
				}
				return unknown(k, "customer", "type") && s.skip(0)
			})
		case "balance":
			if s.null() {
				return true
			}
			a.Balance = &Balance{}
			return s.balance(a.Balance)
		case "balance_refresh":
			if s.null() {
				return true
			}
			r := &BalanceRefresh{}
			a.BalanceRefresh = r
			return s.object(func(k string) bool {
				switch k {
				case "last_attempted_at":
					return s.int64(&r.LastAttemptedAt)
				case "next_refresh_available_at":
					return s.optInt64(&r.NextRefreshAvailableAt)
				case "status":
					return s.strField(&r.Status)
				}
				return unknown(k, "last_attempted_at", "next_refresh_available_at", "status") && s.skip(0)
			})
		case "category":
			return s.strField(&a.Category)
		case "created":
			return s.int64(&a.Created)
		case "display_name":
			return s.strField(&a.DisplayName)
		case "institution_name":
			return s.strField(&a.InstitutionName)
		case "last4":
			return s.strField(&a.Last4)
		case "livemode":
			return s.boolean(&a.Livemode)
		case "ownership":
			if s.null() {
				return true
			}
			var o string
			a.Ownership = &o
			return s.strField(a.Ownership)
		case "ownership_refresh":
			if s.null() {
				return true
			}
			r := &OwnershipRefresh{}
			a.OwnershipRefresh = r
			return s.object(func(k string) bool {
				switch k {
				case "last_attempted_at":
					return s.int64(&r.LastAttemptedAt)
				case "status":
					return s.strField(&r.Status)
				}
				return unknown(k, "last_attempted_at", "status") && s.skip(0)
			})
		case "permissions":
			return s.strings(&a.Permissions)
		case "status":
			return s.strField(&a.Status)
		case "subcategory":
			return s.strField(&a.Subcategory)
		case "subscriptions":
			return s.strings(&a.Subscriptions)
		case "supported_payment_method_types":
			return s.strings(&a.SupportedPaymentMethodTypes)
		case "transaction_refresh":
			if s.null() {
				return true
			}
			r := &TransactionRefresh{}
			a.TransactionRefresh = r
			return s.object(func(k string) bool {
				switch k {
				case "id":
					return s.strField(&r.ID)
				case "last_attempted_at":
					return s.int64(&r.LastAttemptedAt)
				case "next_refresh_available_at":
					return s.optInt64(&r.NextRefreshAvailableAt)
				case "status":
					return s.strField(&r.Status)
				}
				return unknown(k, "id", "last_attempted_at", "next_refresh_available_at", "status") && s.skip(0)
			})
		}
		return unknown(k, accountKeys...) && s.skip(0)
	})
}

func (s *scanner) balance(b *Balance) bool {
	return s.object(func(k string) bool {
		switch k {
		case "as_of":
			return s.int64(&b.AsOf)
		case "cash":
			if s.null() {
				return true
			}
			b.Cash = &Cash{}
			return s.object(func(k string) bool {
				if k == "available" {
					return s.amounts(&b.Cash.Available)
				}
				return unknown(k, "available") && s.skip(0)
			})
		case "credit":
			if s.null() {
				return true
			}
			b.Credit = &Credit{}
			return s.object(func(k string) bool {
				if k == "used" {
					return s.amounts(&b.Credit.Used)
				}
				return unknown(k, "used") && s.skip(0)
			})
		case "current":
			return s.amounts(&b.Current)
		case "type":
			return s.strField(&b.Type)
		}
		return unknown(k, "as_of", "cash", "credit", "current", "type") && s.skip(0)
	})
}

var transactionKeys = []string{"id", "object", "account", "amount", "currency", "description", "livemode", "status",
	"status_transitions", "transacted_at", "transaction_refresh", "updated"}

// transaction reads a transaction into t, which starts with amountMissing set: as in
// Transaction.UnmarshalJSON, an amount clears it.
func (s *scanner) transaction(t *Transaction) bool {
	return s.object(func(k string) bool {
		switch k {
		case "id":
			return s.strField(&t.ID)
		case "object":
			return s.strField(&t.Object)
		case "account":
			return s.strField(&t.Account)
		case "amount":
			n, ok := s.integer() // null: encoding/json's rules (a missing amount)
			t.Amount, t.amountMissing = n, false
			return ok
		case "currency":
			return s.strField(&t.Currency)
		case "description":
			return s.strField(&t.Description)
		case "livemode":
			return s.boolean(&t.Livemode)
		case "status":
			return s.strField(&t.Status)
		case "status_transitions":
			if s.null() {
				return true
			}
			return s.object(func(k string) bool {
				switch k {
				case "posted_at":
					return s.optInt64(&t.StatusTransitions.PostedAt)
				case "void_at":
					return s.optInt64(&t.StatusTransitions.VoidAt)
				}
				return unknown(k, "posted_at", "void_at") && s.skip(0)
			})
		case "transacted_at":
			return s.int64(&t.TransactedAt)
		case "transaction_refresh":
			return s.strField(&t.TransactionRefresh)
		case "updated":
			return s.int64(&t.Updated)
		}
		return unknown(k, transactionKeys...) && s.skip(0)
	})
}
