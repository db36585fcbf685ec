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
//   - a known key repeated in one object (encoding/json merges or replaces);
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
	if !scanObject(&s, fileFields, &f) {
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
	// ints holds the values of the *int64 fields (a posted transaction's posted_at),
	// allocated a block at a time instead of one allocation each.
	ints []int64
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

// field is one known key of an object kind and how its value is decoded into a T.
type field[T any] struct {
	name   string
	decode func(s *scanner, v *T) bool
}

// fields are an object kind's known keys, in the order encoding/json writes them (the
// struct's field order). A key not among them is skipped, unless it equals one in
// another letter case: encoding/json would match it to that one.
type fields[T any] []field[T]

// index returns the position of key k, or −1 for an unknown key. The keys of a file
// usually come in the fields' order, so the one after the previous key, at next, is
// tried first.
func (fs fields[T]) index(k string, next int) int {
	if next < len(fs) && fs[next].name == k {
		return next
	}
	for i := range fs {
		if fs[i].name == k {
			return i
		}
	}
	return -1
}

// foldsToKnown reports whether unknown key k equals a known key in another letter
// case.
func (fs fields[T]) foldsToKnown(k string) bool {
	for i := range fs {
		if n := fs[i].name; len(n) == len(k) && asciiEqualFold(n, k) {
			return true
		}
	}
	return false
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

// maxFields bounds the known keys of an object kind: scanObject keeps one bit a key.
const maxFields = 64

// scanObject reads an object of the kind fs into v: each known key's value with its
// decoder, unknown keys skipped. A known key repeated is refused (encoding/json merges
// or replaces); a repeated unknown key is skipped again, as encoding/json does.
func scanObject[T any](s *scanner, fs fields[T], v *T) bool {
	if len(fs) > maxFields {
		panic("ledger: an object kind of more than 64 keys")
	}
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	var seen uint64 // the known keys so far, one bit each
	next := 0
	for {
		k, ok := s.key()
		if !ok {
			return false
		}
		switch i := fs.index(k, next); {
		case i < 0:
			if fs.foldsToKnown(k) || !s.skip(0) {
				return false
			}
		case seen&(1<<i) != 0:
			return false
		default:
			seen |= 1 << i
			next = i + 1
			if !fs[i].decode(s, v) {
				return false
			}
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
	if len(s.ints) == cap(s.ints) {
		s.ints = make([]int64, 0, max(s.txnHint, minIntBlock))
	}
	s.ints = append(s.ints, n)
	*v = &s.ints[len(s.ints)-1]
	return ok
}

// minIntBlock is the least number of values an allocation of ints holds.
const minIntBlock = 16

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

// object reads an object of the kind fs into a new *T at *v, or null, which leaves *v
// as it is (nil: a known key is read once).
func object[T any](s *scanner, fs fields[T], v **T) bool {
	if s.null() {
		return true
	}
	*v = new(T)
	return scanObject(s, fs, *v)
}

// The object kinds of a ledger file, field for field in the order of the structs
// (Stripe's), which is the order encoding/json writes them in.

var fileFields = fields[File]{
	{"accounts", func(s *scanner, f *File) bool {
		if s.null() {
			return true
		}
		f.Accounts = []Entry{}
		return s.array(func() bool {
			if s.peek() != '{' {
				return false // null or another type: encoding/json's rules
			}
			f.Accounts = append(f.Accounts, Entry{})
			return scanObject(s, entryFields, &f.Accounts[len(f.Accounts)-1])
		})
	}},
}

var entryFields = fields[Entry]{
	{"account", func(s *scanner, e *Entry) bool {
		return s.null() || scanObject(s, accountFields, &e.Account)
	}},
	{"transactions", func(s *scanner, e *Entry) bool {
		if s.null() {
			return true
		}
		e.Transactions = make([]Transaction, 0, max(s.txnHint, 0))
		ok := s.array(func() bool {
			if s.peek() != '{' {
				return false
			}
			// amountMissing until an amount is read, as in Transaction.UnmarshalJSON
			e.Transactions = append(e.Transactions, Transaction{amountMissing: true})
			return scanObject(s, transactionFields, &e.Transactions[len(e.Transactions)-1])
		})
		s.txnHint -= len(e.Transactions)
		return ok
	}},
}

var accountFields = fields[Account]{
	{"id", func(s *scanner, a *Account) bool { return s.strField(&a.ID) }},
	{"object", func(s *scanner, a *Account) bool { return s.strField(&a.Object) }},
	{"account_holder", func(s *scanner, a *Account) bool { return object(s, accountHolderFields, &a.AccountHolder) }},
	{"balance", func(s *scanner, a *Account) bool { return object(s, balanceFields, &a.Balance) }},
	{"balance_refresh", func(s *scanner, a *Account) bool { return object(s, balanceRefreshFields, &a.BalanceRefresh) }},
	{"category", func(s *scanner, a *Account) bool { return s.strField(&a.Category) }},
	{"created", func(s *scanner, a *Account) bool { return s.int64(&a.Created) }},
	{"display_name", func(s *scanner, a *Account) bool { return s.strField(&a.DisplayName) }},
	{"institution_name", func(s *scanner, a *Account) bool { return s.strField(&a.InstitutionName) }},
	{"last4", func(s *scanner, a *Account) bool { return s.strField(&a.Last4) }},
	{"livemode", func(s *scanner, a *Account) bool { return s.boolean(&a.Livemode) }},
	{"ownership", func(s *scanner, a *Account) bool {
		if s.null() {
			return true
		}
		a.Ownership = new(string)
		return s.strField(a.Ownership)
	}},
	{"ownership_refresh", func(s *scanner, a *Account) bool {
		return object(s, ownershipRefreshFields, &a.OwnershipRefresh)
	}},
	{"permissions", func(s *scanner, a *Account) bool { return s.strings(&a.Permissions) }},
	{"status", func(s *scanner, a *Account) bool { return s.strField(&a.Status) }},
	{"subcategory", func(s *scanner, a *Account) bool { return s.strField(&a.Subcategory) }},
	{"subscriptions", func(s *scanner, a *Account) bool { return s.strings(&a.Subscriptions) }},
	{"supported_payment_method_types", func(s *scanner, a *Account) bool {
		return s.strings(&a.SupportedPaymentMethodTypes)
	}},
	{"transaction_refresh", func(s *scanner, a *Account) bool {
		return object(s, transactionRefreshFields, &a.TransactionRefresh)
	}},
}

var accountHolderFields = fields[AccountHolder]{
	{"customer", func(s *scanner, h *AccountHolder) bool { return s.strField(&h.Customer) }},
	{"type", func(s *scanner, h *AccountHolder) bool { return s.strField(&h.Type) }},
}

var balanceFields = fields[Balance]{
	{"as_of", func(s *scanner, b *Balance) bool { return s.int64(&b.AsOf) }},
	{"cash", func(s *scanner, b *Balance) bool { return object(s, cashFields, &b.Cash) }},
	{"credit", func(s *scanner, b *Balance) bool { return object(s, creditFields, &b.Credit) }},
	{"current", func(s *scanner, b *Balance) bool { return s.amounts(&b.Current) }},
	{"type", func(s *scanner, b *Balance) bool { return s.strField(&b.Type) }},
}

var cashFields = fields[Cash]{
	{"available", func(s *scanner, c *Cash) bool { return s.amounts(&c.Available) }},
}

var creditFields = fields[Credit]{
	{"used", func(s *scanner, c *Credit) bool { return s.amounts(&c.Used) }},
}

var balanceRefreshFields = fields[BalanceRefresh]{
	{"last_attempted_at", func(s *scanner, r *BalanceRefresh) bool { return s.int64(&r.LastAttemptedAt) }},
	{"next_refresh_available_at", func(s *scanner, r *BalanceRefresh) bool {
		return s.optInt64(&r.NextRefreshAvailableAt)
	}},
	{"status", func(s *scanner, r *BalanceRefresh) bool { return s.strField(&r.Status) }},
}

var ownershipRefreshFields = fields[OwnershipRefresh]{
	{"last_attempted_at", func(s *scanner, r *OwnershipRefresh) bool { return s.int64(&r.LastAttemptedAt) }},
	{"status", func(s *scanner, r *OwnershipRefresh) bool { return s.strField(&r.Status) }},
}

var transactionRefreshFields = fields[TransactionRefresh]{
	{"id", func(s *scanner, r *TransactionRefresh) bool { return s.strField(&r.ID) }},
	{"last_attempted_at", func(s *scanner, r *TransactionRefresh) bool { return s.int64(&r.LastAttemptedAt) }},
	{"next_refresh_available_at", func(s *scanner, r *TransactionRefresh) bool {
		return s.optInt64(&r.NextRefreshAvailableAt)
	}},
	{"status", func(s *scanner, r *TransactionRefresh) bool { return s.strField(&r.Status) }},
}

var transactionFields = fields[Transaction]{
	{"id", func(s *scanner, t *Transaction) bool { return s.strField(&t.ID) }},
	{"object", func(s *scanner, t *Transaction) bool { return s.strField(&t.Object) }},
	{"account", func(s *scanner, t *Transaction) bool { return s.strField(&t.Account) }},
	{"amount", func(s *scanner, t *Transaction) bool {
		n, ok := s.integer() // null: encoding/json's rules (a missing amount)
		t.Amount, t.amountMissing = n, false
		return ok
	}},
	{"currency", func(s *scanner, t *Transaction) bool { return s.strField(&t.Currency) }},
	{"description", func(s *scanner, t *Transaction) bool { return s.strField(&t.Description) }},
	{"livemode", func(s *scanner, t *Transaction) bool { return s.boolean(&t.Livemode) }},
	{"status", func(s *scanner, t *Transaction) bool { return s.strField(&t.Status) }},
	{"status_transitions", func(s *scanner, t *Transaction) bool {
		return s.null() || scanObject(s, statusTransitionsFields, &t.StatusTransitions)
	}},
	{"transacted_at", func(s *scanner, t *Transaction) bool { return s.int64(&t.TransactedAt) }},
	{"transaction_refresh", func(s *scanner, t *Transaction) bool { return s.strField(&t.TransactionRefresh) }},
	{"updated", func(s *scanner, t *Transaction) bool { return s.int64(&t.Updated) }},
}

var statusTransitionsFields = fields[StatusTransitions]{
	{"posted_at", func(s *scanner, st *StatusTransitions) bool { return s.optInt64(&st.PostedAt) }},
	{"void_at", func(s *scanner, st *StatusTransitions) bool { return s.optInt64(&st.VoidAt) }},
}
