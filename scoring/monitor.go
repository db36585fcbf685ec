package scoring

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Early-warning event types (docs/monitoring.md): what Monitor reports about a booked
// loan's account.
const (
	EventNSFOverdraft        = "NSF_OVERDRAFT_DETECTED"
	EventLowBalance          = "LOW_BALANCE"
	EventIncomeStopped       = "INCOME_STOPPED"
	EventIncomeDrop          = "INCOME_DROP"
	EventNewIncomeStream     = "NEW_INCOME_STREAM"
	EventNewLoanPayment      = "NEW_LOAN_PAYMENT"
	EventNewHighRiskLender   = "NEW_HIGH_RISK_LENDER"
	EventLargeDeposit        = "LARGE_DEPOSIT"
	EventAccountDisconnected = "ACCOUNT_DISCONNECTED"
)

// MonitoredLoan is the booked loan being watched.
type MonitoredLoan struct {
	AmountMinor int64
	TermMonths  int
	// Currency is the loan's lower-case ISO 4217 code ("" when not given).
	Currency string
	// FirstDue is the due date of the first instalment (its UTC day counts); instalment k
	// (k = 0 … TermMonths−1) is due k calendar months later, the day clamped to the month's
	// last day.
	FirstDue time.Time
	// InstalmentMinor is the amount due each month.
	InstalmentMinor int64
}

// MonitorBaseline is what was known at origination: BaselineFromDecision builds it from
// the recorded decision.
type MonitorBaseline struct {
	// AsOf is the ledger clock of the decision (its cutoff).
	AsOf time.Time
	// IncomeStreams and OutflowStreams are the streams detected at origination.
	IncomeStreams  []Stream
	OutflowStreams []Stream
	// MonthlyIncomeEst is the monthly income estimate at origination (minor units).
	MonthlyIncomeEst int64
	// FeatureSetVersion is the feature set of the streams and the estimate (the
	// decision's); Monitor computes the updated ledger's in the same set, so the
	// comparisons hold like with like. "" means the default feature set.
	FeatureSetVersion string
	// PD, ModelVersion and PolicyVersion are the decision's.
	PD            float64
	ModelVersion  string
	PolicyVersion string
}

// BaselineFromDecision returns the baseline of a decision made as of asOf.
func BaselineFromDecision(d Decision, asOf time.Time) MonitorBaseline {
	return MonitorBaseline{
		AsOf:              asOf.UTC(),
		IncomeStreams:     d.Features.IncomeStreams,
		OutflowStreams:    d.Features.OutflowStreams,
		MonthlyIncomeEst:  d.Features.MonthlyIncomeEst,
		FeatureSetVersion: d.Features.FeatureSetVersion,
		PD:                d.PD,
		ModelVersion:      d.ModelVersion,
		PolicyVersion:     d.PolicyVersion,
	}
}

// MonitorCheck is what the caller remembers of its previous check: MonitorResult.Next.
// The zero value means "no check yet": Since is then the baseline's AsOf.
type MonitorCheck struct {
	// Since is the previous check's ledger clock (MonitorResult.AsOf).
	Since time.Time `json:"since"`
	// Disconnected lists, sorted, the accounts already reported disconnected.
	Disconnected []string `json:"disconnected,omitempty"`
	// Overdrawn and BelowFloor say whether the combined balance at Since was negative,
	// or below the policy's floor, as that check saw it. A balance's as_of falls during
	// its day, so a check sees only part of that day: what is posted later the same day
	// arrives with the next refresh, and it may turn the day negative after the fact. The
	// next check compares that day with what the lender was told, not with itself, so
	// the crossing is reported once, late, instead of never.
	Overdrawn  bool `json:"overdrawn,omitempty"`
	BelowFloor bool `json:"below_floor,omitempty"`
	// IncomeDropped says INCOME_DROP was reported and the income has not recovered
	// since (to within half the drop share of the baseline estimate), so a rate that
	// hovers about the threshold reports the drop once.
	IncomeDropped bool `json:"income_dropped,omitempty"`
}

// Evidence is one fact an event rests on: a transaction (ID set), a balance, a stream's
// expected date or an estimate. Amounts are minor units with the project sign for
// transactions, magnitudes otherwise; Date is a UTC day YYYY-MM-DD.
type Evidence struct {
	Kind        string `json:"kind"` // transaction | balance | expected_date | estimate | account
	ID          string `json:"id,omitempty"`
	AmountMinor int64  `json:"amount_minor"`
	Date        string `json:"date,omitempty"`
}

// Event is one early warning. Key is stable and loan-independent (type and evidence
// ids), so a store can keep each event once per loan.
type Event struct {
	Type string `json:"type"`
	Key  string `json:"key"`
	// Date is the UTC day of the cause.
	Date     string     `json:"date"`
	Text     string     `json:"text"`
	Evidence []Evidence `json:"evidence"`
	// Hint, when set, is what the lender can do (ACCOUNT_DISCONNECTED: relink).
	Hint string `json:"hint,omitempty"`
}

// Rescore is the PD of the updated ledger under the model and policy of the decision
// and under the current default ones, with the change since origination.
type Rescore struct {
	ModelVersion  string  `json:"model_version"`
	PolicyVersion string  `json:"policy_version"`
	Score         int     `json:"score"`
	PD            float64 `json:"pd"`
	// PDChange is PD − the PD at origination.
	PDChange             float64 `json:"pd_change"`
	DefaultModelVersion  string  `json:"default_model_version"`
	DefaultPolicyVersion string  `json:"default_policy_version"`
	DefaultScore         int     `json:"default_score"`
	DefaultPD            float64 `json:"default_pd"`
}

// MonitorResult is one check's outcome.
type MonitorResult struct {
	MonitoringPolicyVersion string `json:"monitoring_policy_version"`
	// AsOf is the ledger's clock (LatestAsOf); Since the start of the checked interval.
	AsOf  time.Time `json:"as_of"`
	Since time.Time `json:"since"`
	// Events are the new events, ordered by (Date, Type, Key).
	Events  []Event `json:"events"`
	Rescore Rescore `json:"rescore"`
	// Next is what to pass as MonitorCheck to the next call.
	Next MonitorCheck `json:"next"`
}

// ErrNoLedgerClock is returned when no account of the ledger has a balance: without a
// balance.as_of the ledger has no clock.
var ErrNoLedgerClock = errors.New("scoring: monitor: no account has a balance as_of (the ledger's clock)")

// ErrInvalidMonitoredLoan wraps a MonitoredLoan field error.
var ErrInvalidMonitoredLoan = errors.New("scoring: invalid monitored loan")

func (m MonitoredLoan) check() error {
	if err := (Loan{AmountMinor: m.AmountMinor, TermMonths: m.TermMonths}).check(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidMonitoredLoan, err)
	}
	if m.FirstDue.IsZero() {
		return fmt.Errorf("%w: first_due: missing", ErrInvalidMonitoredLoan)
	}
	if m.InstalmentMinor <= 0 || !inRange(m.InstalmentMinor) {
		return fmt.Errorf("%w: instalment: %d is not a positive amount within ±%d", ErrInvalidMonitoredLoan, m.InstalmentMinor, int64(MaxAmountMinor))
	}
	return nil
}

// dueDay returns the UTC day number of instalment k.
func (m MonitoredLoan) dueDay(k int) int64 {
	f := m.FirstDue.UTC()
	first := time.Date(f.Year(), f.Month()+time.Month(k), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return dayOf(first.AddDate(0, 0, min(f.Day(), last)-1))
}

// Monitor computes the early-warning events of a booked loan from its updated ledger l.
//
// The clock is the ledger's own: now is LatestAsOf(l), never the machine's, so the same
// ledger and check give the same result in a test, a replay and production. Only events
// whose cause lies in the interval (since, now] fire, with since = prev.Since (the
// previous check's AsOf), or base.AsOf for the first check: a caller that calls Monitor
// after every refresh and passes the previous result's Next gets each event once. Each
// event's Key is stable across calls, so a store may also de-duplicate by (loan, key).
// A transaction that arrives late, dated on or before since, is not reported.
//
// Errors: ErrInvalidMonitoredLoan, ErrNoLedgerClock, the errors of Normalize, and a
// baseline whose model or policy version this build does not ship.
func Monitor(l Ledger, loan MonitoredLoan, base MonitorBaseline, prev MonitorCheck, p *MonitoringPolicy) (MonitorResult, error) {
	if p == nil {
		return MonitorResult{}, fmt.Errorf("%w: policy: nil", ErrInvalidMonitoringPolicy)
	}
	if err := loan.check(); err != nil {
		return MonitorResult{}, err
	}
	n, err := Normalize(l)
	if err != nil {
		return MonitorResult{}, err
	}
	now := LatestAsOf(n)
	if now.IsZero() {
		return MonitorResult{}, ErrNoLedgerClock
	}
	since := prev.Since.UTC()
	if since.IsZero() {
		since = base.AsOf.UTC()
	}
	res := MonitorResult{MonitoringPolicyVersion: p.Version, AsOf: now, Since: since, Events: []Event{}}
	uloan := Loan{AmountMinor: loan.AmountMinor, TermMonths: loan.TermMonths, Currency: loan.Currency}
	if res.Rescore, err = rescore(n, now, uloan, base); err != nil {
		return MonitorResult{}, err
	}
	m, err := newMonitorState(n, now, since, uloan, base, loan, p)
	if err != nil {
		return MonitorResult{}, err
	}
	m.prev = prev
	res.Next = MonitorCheck{Since: now, Overdrawn: prev.Overdrawn, BelowFloor: prev.BelowFloor, IncomeDropped: prev.IncomeDropped}
	res.Next.Disconnected = m.accounts(prev.Disconnected)
	if now.After(since) {
		res.Next.Overdrawn, res.Next.BelowFloor = m.balanceFlags()
		m.transactions()
		m.lowBalance()
		m.incomeStopped()
		res.Next.IncomeDropped = m.incomeDrop()
		m.newIncomeStreams()
	}
	slices.SortFunc(m.events, func(a, b Event) int {
		return cmpStrings(a.Date, b.Date, a.Type, b.Type, a.Key, b.Key)
	})
	res.Events = append(res.Events, m.events...)
	return res, nil
}

func cmpStrings(pairs ...string) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if c := strings.Compare(pairs[i], pairs[i+1]); c != 0 {
			return c
		}
	}
	return 0
}

// rescore underwrites the updated ledger as of now under the decision's versions and
// the default ones.
func rescore(l Ledger, now time.Time, loan Loan, base MonitorBaseline) (Rescore, error) {
	def := DefaultEngine()
	e := def
	if base.ModelVersion != "" || base.PolicyVersion != "" {
		var err error
		if e, err = ShippedEngine(base.ModelVersion, base.PolicyVersion); err != nil {
			return Rescore{}, fmt.Errorf("monitor: re-score under the decision's versions: %w", err)
		}
	}
	op := Operational{InactiveAccounts: inactiveAccounts(l)}
	d, err := e.Underwrite(l, now, loan, op)
	if err != nil {
		return Rescore{}, fmt.Errorf("monitor: re-score: %w", err)
	}
	dd, err := def.Underwrite(l, now, loan, op)
	if err != nil {
		return Rescore{}, fmt.Errorf("monitor: re-score under the default model: %w", err)
	}
	return Rescore{
		ModelVersion: d.ModelVersion, PolicyVersion: d.PolicyVersion, Score: d.Score, PD: d.PD,
		PDChange:            roundTo(d.PD-base.PD, 4),
		DefaultModelVersion: dd.ModelVersion, DefaultPolicyVersion: dd.PolicyVersion,
		DefaultScore: dd.Score, DefaultPD: dd.PD,
	}, nil
}

func roundTo(x float64, places int) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', places, 64), 64)
	return v
}

func inactiveAccounts(l Ledger) int {
	n := 0
	for _, a := range l.Accounts {
		if a.Status != "" && a.Status != "active" {
			n++
		}
	}
	return n
}

// monitorState holds one check's inputs.
type monitorState struct {
	s            *featureState // the ledger as of now
	now, since   int64         // UTC days
	nowT, sinceT time.Time
	fNow, fSince Features
	base         MonitorBaseline
	loan         MonitoredLoan
	p            *MonitoringPolicy
	ccy          string
	prev         MonitorCheck
	events       []Event
}

func newMonitorState(n Ledger, now, since time.Time, uloan Loan, base MonitorBaseline, loan MonitoredLoan, p *MonitoringPolicy) (*monitorState, error) {
	var opts FeatureOptions
	if base.FeatureSetVersion != "" {
		var err error
		if opts, err = FeatureOptionsFor(base.FeatureSetVersion); err != nil {
			return nil, fmt.Errorf("monitor: baseline feature set: %w", err)
		}
	}
	set, err := lookupFeatureSet(opts.FeatureSet)
	if err != nil {
		return nil, err
	}
	m := &monitorState{now: dayOf(now), since: dayOf(since), nowT: now, sinceT: since, base: base, loan: loan, p: p}
	if m.s, err = newFeatureState(n, m.now, set, opts); err != nil {
		return nil, err
	}
	if m.fNow, err = ComputeFeaturesWith(n, now, uloan, opts); err != nil {
		return nil, err
	}
	if m.fSince, err = ComputeFeaturesWith(n, since, uloan, opts); err != nil {
		return nil, err
	}
	m.ccy, _ = ledgerCurrency(n)
	return m, nil
}

func (m *monitorState) add(typ, day, text string, ev []Evidence, keyParts ...string) {
	m.events = append(m.events, Event{
		Type: typ, Key: typ + ":" + strings.Join(keyParts, ":"), Date: day, Text: text, Evidence: ev,
	})
}

// money formats minor units as "1234.56 USD".
func (m *monitorState) money(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, v/100, v%100, strings.ToUpper(m.ccy))
}

// isNew reports whether a transaction is dated in (since, now].
func (m *monitorState) isNew(t Transaction) bool {
	return t.TransactedAt.After(m.sinceT) && !t.TransactedAt.After(m.nowT)
}

func txEvidence(t Transaction) Evidence {
	return Evidence{Kind: "transaction", ID: t.ID, AmountMinor: t.Amount, Date: dayString(dayOf(t.TransactedAt))}
}

// accounts adds ACCOUNT_DISCONNECTED for each account whose status is set and not
// "active" and that was not already reported, and returns the sorted list of accounts
// now reported (a relinked account leaves it, so a second disconnection fires again).
func (m *monitorState) accounts(reported []string) []string {
	var out []string
	for _, a := range m.s.ledger.Accounts { // sorted by id
		if a.Status == "" || a.Status == "active" {
			continue
		}
		out = append(out, a.ID)
		if slices.Contains(reported, a.ID) {
			continue
		}
		day := dayString(m.now)
		ev := Evidence{Kind: "account", ID: a.ID, Date: day}
		if a.HasBalance {
			ev.AmountMinor, ev.Date = a.Current, dayString(dayOf(a.AsOf))
		}
		m.add(EventAccountDisconnected, ev.Date,
			fmt.Sprintf("A linked account is %s: its transactions are no longer refreshed, so the other warnings cannot see what happens in it.", a.Status),
			[]Evidence{ev}, a.ID, ev.Date)
		m.events[len(m.events)-1].Hint = "Ask the borrower to relink the account (a new Financial Connections session for the same bank); monitoring resumes with the next refresh."
	}
	return out
}

// highRisk are the categories of NEW_HIGH_RISK_LENDER.
var highRisk = map[Category]string{CategoryPaydayLender: "a payday lender", CategoryMCA: "a merchant cash advance provider", CategoryBNPL: "a buy-now-pay-later provider"}

// transactions adds the transaction events: NSF_OVERDRAFT_DETECTED, NEW_LOAN_PAYMENT,
// NEW_HIGH_RISK_LENDER and LARGE_DEPOSIT.
func (m *monitorState) transactions() {
	s := m.s
	known := map[string]bool{} // lender payees seen at origination or before since
	for _, st := range append(slices.Clone(m.base.OutflowStreams), m.base.IncomeStreams...) {
		known[st.Description] = true
	}
	for i, t := range s.hist {
		if !t.TransactedAt.After(m.sinceT) && isLender(s.cats[i]) {
			known[normaliseDescription(t.Description)] = true
		}
	}
	large := max(m.p.LargeDepositMinMinor, int64(m.p.LargeDepositIncomeShare*float64(m.base.MonthlyIncomeEst)))
	for i, t := range s.hist {
		if !m.isNew(t) {
			continue
		}
		day := dayString(s.days[i])
		c := s.cats[i]
		switch {
		case isNSFODFee(c) || c == CategoryReturnedItem:
			what := "An overdraft or NSF fee"
			if c == CategoryReturnedItem {
				what = "A returned (bounced) item"
			}
			m.add(EventNSFOverdraft, day, fmt.Sprintf("%s of %s was posted on %s.", what, m.money(-t.Amount), day),
				[]Evidence{txEvidence(t)}, t.ID)
		case isLender(c):
			key := normaliseDescription(t.Description)
			if known[key] || (c == CategoryLoanPayment && -t.Amount == m.loan.InstalmentMinor) {
				continue // a known lender, or this loan's own instalment
			}
			known[key] = true
			if who, ok := highRisk[c]; ok {
				m.add(EventNewHighRiskLender, day, fmt.Sprintf("A first transaction with %s not seen at origination: %s on %s.", who, m.money(t.Amount), day),
					[]Evidence{txEvidence(t)}, t.ID)
			} else if t.Amount < 0 {
				m.add(EventNewLoanPayment, day, fmt.Sprintf("A payment of %s to a lender not seen at origination was made on %s: a new loan.", m.money(-t.Amount), day),
					[]Evidence{txEvidence(t)}, t.ID)
			}
		case t.Amount > large && s.flow[i] && c != CategoryTransfer && c != CategorySavingsWithdrawal && t.Amount != m.loan.AmountMinor &&
			!m.usualPay(i):
			m.add(EventLargeDeposit, day, fmt.Sprintf("A deposit of %s on %s is larger than %s (the policy's large-deposit threshold).", m.money(t.Amount), day, m.money(large)),
				[]Evidence{txEvidence(t)}, t.ID)
		}
	}
}

// usualPay reports whether deposit hist[i] is one of the borrower's income payments of its
// usual size: an occurrence of an income stream detected now, or a deposit under the
// description of an income stream of the baseline of at most usualPayMultiple times its
// average. A semi-monthly salary is half the monthly income, about the large-deposit
// threshold: it must never read as a windfall. A bonus far above the usual pay still
// does.
func (m *monitorState) usualPay(i int) bool {
	t, key := m.s.hist[i], m.s.keys[i]
	for _, st := range m.fNow.IncomeStreams {
		if slices.Contains(st.TransactionIDs, t.ID) {
			return true
		}
	}
	for _, list := range [][]Stream{m.base.IncomeStreams, m.fNow.IncomeStreams} {
		for _, st := range list {
			if st.Description == key && float64(t.Amount) <= usualPayMultiple*float64(st.AverageAmount) {
				return true
			}
		}
	}
	return false
}

// usualPayMultiple bounds a usual pay: up to 1.5 times a stream's average (overtime, a
// fifth week) is pay, not a large deposit.
const usualPayMultiple = 1.5

func isLender(c Category) bool {
	_, hr := highRisk[c]
	return hr || c == CategoryLoanPayment
}

// eod returns the combined end-of-day balance of days [from, to].
func (m *monitorState) eod(from, to int64) []int64 {
	return dailyBalances(m.s.ledger, from, to).Combined.EOD
}

// lowBalance adds NSF_OVERDRAFT_DETECTED when the combined balance went negative on a
// day in (since, now], and LOW_BALANCE: the combined balance fell below the floor on a
// day in (since, now], or the next instalment is due within the warning days and the balance is
// below it (once per due date).
func (m *monitorState) lowBalance() {
	eod := m.eod(m.since, m.now) // eod[i] is day since+i
	if len(eod) == 0 {
		return
	}
	floor := m.p.LowBalanceFloorMinor
	// wasNeg and wasLow are the state before day i. The previous check's own view of the
	// day since (Overdrawn, BelowFloor) counts, not today's view of it: the rest of that
	// day may have arrived only now. Without a previous check the baseline's day is
	// taken as seen today, and only later days can cross.
	first, wasNeg, wasLow := 1, eod[0] < 0, eod[0] < floor
	if !m.prev.Since.IsZero() {
		first, wasNeg, wasLow = 0, m.prev.Overdrawn, m.prev.BelowFloor
	}
	for i := first; i < len(eod); i++ {
		neg, low := eod[i] < 0, eod[i] < floor
		crossedNeg, crossedLow := neg && !wasNeg, low && !wasLow
		wasNeg, wasLow = neg, low
		if crossedNeg {
			day := dayString(m.since + int64(i))
			m.add(EventNSFOverdraft, day, fmt.Sprintf("The account was overdrawn at the end of %s: the balance was %s.", day, m.money(eod[i])),
				[]Evidence{{Kind: "balance", AmountMinor: eod[i], Date: day}}, "overdrawn", day)
		}
		if crossedLow {
			day := dayString(m.since + int64(i))
			m.add(EventLowBalance, day, fmt.Sprintf("The balance fell to %s on %s, below the floor of %s.", m.money(eod[i]), day, m.money(floor)),
				[]Evidence{{Kind: "balance", AmountMinor: eod[i], Date: day}}, "floor", day)
		}
	}
	for k := 0; k < m.loan.TermMonths; k++ {
		due := m.loan.dueDay(k)
		if due < m.now {
			continue
		}
		warnFrom := due - int64(m.p.InstalmentWarningDays)
		bal := eod[len(eod)-1]
		if m.now >= warnFrom && bal < m.loan.InstalmentMinor {
			// New unless the warning already held at the previous check.
			if m.since >= warnFrom && eod[0] < m.loan.InstalmentMinor {
				break
			}
			d, today := dayString(due), dayString(m.now)
			m.add(EventLowBalance, today, fmt.Sprintf("The balance is %s on %s, below the instalment of %s due on %s.", m.money(bal), today, m.money(m.loan.InstalmentMinor), d),
				[]Evidence{{Kind: "balance", AmountMinor: bal, Date: today}, {Kind: "expected_date", AmountMinor: m.loan.InstalmentMinor, Date: d}}, "instalment", d)
		}
		break // only the next instalment
	}
}

// balanceFlags returns whether the combined balance at now is negative and below the
// floor: MonitorCheck's Overdrawn and BelowFloor for the next check.
func (m *monitorState) balanceFlags() (overdrawn, belowFloor bool) {
	eod := m.eod(m.now, m.now)
	if len(eod) == 0 {
		return false, false
	}
	return eod[0] < 0, eod[0] < m.p.LowBalanceFloorMinor
}

// regular reports whether a stream is a MATURE stream of known cadence.
func regular(st Stream) bool {
	return st.Status == StreamMature && st.Frequency != FrequencyUnknown
}

// sameStream reports whether a and b are one stream: the same description key or a
// shared occurrence.
func sameStream(a, b Stream) bool {
	if a.Description == b.Description && a.Direction == b.Direction {
		return true
	}
	for _, id := range a.TransactionIDs {
		if slices.Contains(b.TransactionIDs, id) {
			return true
		}
	}
	return false
}

func findStream(list []Stream, st Stream) (Stream, bool) {
	for _, c := range list {
		if sameStream(c, st) {
			return c, true
		}
	}
	return Stream{}, false
}

// incomeStopped adds INCOME_STOPPED for each regular income stream of the baseline whose
// predicted next date plus the cadence tolerance and IncomeLateDays passed in (since,
// now]; for a baseline without a regular stream, when the income of the last
// IrregularIncomeWindowDays fell below the share of the baseline estimate.
func (m *monitorState) incomeStopped() {
	anyRegular := false
	for _, b := range m.base.IncomeStreams {
		if !regular(b) {
			continue
		}
		anyRegular = true
		cur := b // the latest of the baseline stream and its matches now
		for _, c := range m.fNow.IncomeStreams {
			if sameStream(c, b) && c.LastDate > cur.LastDate {
				cur = c
			}
		}
		if cur.PredictedNextDate == "" || len(cur.TransactionIDs) == 0 {
			continue
		}
		last, lastDate, lastAmount := cur.TransactionIDs[len(cur.TransactionIDs)-1], cur.LastDate, cur.LastAmount
		predicted := dayOf(mustDay(cur.PredictedNextDate))
		// The same payer paying after the stream's last occurrence, whatever the amount,
		// has not stopped: a pay cut splits the stream's amount clusters, and a new
		// cluster is a stream only after a few payments; it is INCOME_DROP's to report.
		// The cadence runs on from that payment.
		if i, ok := m.lastPaymentFrom(cur.Description, dayOf(mustDay(cur.LastDate))); ok {
			t := m.s.hist[i]
			predicted += m.s.days[i] - dayOf(mustDay(cur.LastDate))
			last, lastDate, lastAmount = t.ID, dayString(m.s.days[i]), t.Amount
		}
		deadline := predicted + DefaultOnCadenceDays + int64(m.p.IncomeLateDays)
		if deadline >= m.now || deadline < m.since {
			continue
		}
		expected := dayString(predicted)
		day := dayString(deadline + 1)
		m.add(EventIncomeStopped, day,
			fmt.Sprintf("A regular %s income of about %s, last paid on %s, was expected by %s and has not arrived.",
				strings.ToLower(cur.Frequency), m.money(cur.AverageAmount), lastDate, expected),
			[]Evidence{{Kind: "transaction", ID: last, AmountMinor: lastAmount, Date: lastDate},
				{Kind: "expected_date", AmountMinor: cur.AverageAmount, Date: expected}},
			last, expected)
	}
	if anyRegular || m.base.MonthlyIncomeEst <= 0 {
		return
	}
	w := int64(m.p.IrregularIncomeWindowDays)
	want := int64(m.p.IrregularIncomeMinShare * float64(m.base.MonthlyIncomeEst))
	got, lastID, lastDay := m.incomeIn(m.now-w, m.now)
	before, _, _ := m.incomeIn(m.since-w, m.since)
	if got >= want || before < want {
		return
	}
	day := dayString(m.now)
	ev := []Evidence{{Kind: "estimate", AmountMinor: got, Date: day}}
	if lastID != "" {
		ev = append(ev, Evidence{Kind: "transaction", ID: lastID, Date: dayString(lastDay)})
	}
	m.add(EventIncomeStopped, day,
		fmt.Sprintf("Income of the last %d days is %s, below %s (%g of the %s monthly estimate at origination).",
			w, m.money(got), m.money(want), m.p.IrregularIncomeMinShare, m.money(m.base.MonthlyIncomeEst)),
		ev, "irregular", day)
}

// lastPaymentFrom returns the index in the history of the latest deposit under the
// description key desc dated after day after (and by now).
func (m *monitorState) lastPaymentFrom(desc string, after int64) (int, bool) {
	s, found := m.s, -1
	for i, t := range s.hist {
		if t.Amount > 0 && s.flow[i] && s.days[i] > after && s.days[i] <= m.now && s.keys[i] == desc {
			if found < 0 || s.days[i] >= s.days[found] {
				found = i
			}
		}
	}
	return found, found >= 0
}

// incomeIn sums the recognised income deposits dated in (from, to] and returns the last one.
func (m *monitorState) incomeIn(from, to int64) (sum int64, lastID string, lastDay int64) {
	s := m.s
	for i, t := range s.hist {
		if s.days[i] > from && s.days[i] <= to && s.isIncome(i) {
			sum += t.Amount
			lastID, lastDay = t.ID, s.days[i]
		}
	}
	return sum, lastID, lastDay
}

// paidBeforeOrigination counts the stream's occurrences dated on or before the
// baseline's day.
func (m *monitorState) paidBeforeOrigination(st Stream) int {
	origin, n := dayOf(m.base.AsOf), 0
	for _, id := range st.TransactionIDs {
		if i, ok := m.s.byID[id]; ok && m.s.days[i] <= origin {
			n++
		}
	}
	return n
}

// incomeDropWindowDays is the window of INCOME_DROP's income rate: three months hold six
// or seven biweekly or semi-monthly pay days, so the rate of a steady pay moves by less
// than 15 % with the calendar, well inside the policy's drop share.
const incomeDropWindowDays = 90

// incomeRate returns the recognised income of the incomeDropWindowDays up to day to, as a
// monthly amount.
func (m *monitorState) incomeRate(to int64) int64 {
	sum, _, _ := m.incomeIn(to-incomeDropWindowDays, to)
	return int64(math.Round(float64(sum) * 365.25 / 12 / incomeDropWindowDays))
}

// incomeDrop adds INCOME_DROP when the income of the last incomeDropWindowDays, as a
// monthly rate, fell more than IncomeDropShare below the baseline's monthly estimate,
// unless that was reported already and the rate has not recovered to within half the
// share since. It returns MonitorCheck.IncomeDropped for the next check. The rate counts
// the deposits that arrived, not the streams' state: a pay day a day or two late makes a
// stream look inactive, and the stream-based estimate drop to nothing until it comes (a
// late pay is INCOME_STOPPED's, after its grace); a smaller pay or fewer pay days lower
// the rate for good.
func (m *monitorState) incomeDrop() bool {
	b := m.base.MonthlyIncomeEst
	if b <= 0 {
		return false
	}
	limit := float64(b) * (1 - m.p.IncomeDropShare)
	recovered := float64(b) * (1 - m.p.IncomeDropShare/2)
	now := m.incomeRate(m.now)
	dropped := m.prev.IncomeDropped
	if m.prev.Since.IsZero() {
		dropped = float64(m.incomeRate(m.since)) < limit
	}
	switch {
	case dropped && float64(now) >= recovered:
		return false
	case dropped || float64(now) >= limit:
		return dropped
	}
	day := dayString(m.now)
	m.add(EventIncomeDrop, day,
		fmt.Sprintf("Income of the last %d days came to %s a month, down from the %s estimated at origination (more than %g lower).",
			incomeDropWindowDays, m.money(now), m.money(b), m.p.IncomeDropShare),
		[]Evidence{{Kind: "estimate", AmountMinor: now, Date: day},
			{Kind: "estimate", AmountMinor: b, Date: dayString(dayOf(m.base.AsOf))}},
		day)
	return true
}

// newIncomeStreams adds NEW_INCOME_STREAM for each active income stream detected now that
// was neither in the baseline nor detected at the previous check.
func (m *monitorState) newIncomeStreams() {
	for _, st := range m.fNow.IncomeStreams {
		if !st.IsActive || len(st.TransactionIDs) == 0 {
			continue
		}
		if _, ok := findStream(m.base.IncomeStreams, st); ok {
			continue
		}
		if _, ok := findStream(m.fSince.IncomeStreams, st); ok {
			continue
		}
		if m.paidBeforeOrigination(st) > 1 {
			// An income the borrower already had, now regular enough to be a stream
			// (a gig platform's payouts): not new. One payment before origination is
			// a job that had just started.
			continue
		}
		ev := make([]Evidence, 0, len(st.TransactionIDs))
		for _, id := range st.TransactionIDs {
			if i, ok := m.s.byID[id]; ok {
				ev = append(ev, txEvidence(m.s.hist[i]))
			} else {
				ev = append(ev, Evidence{Kind: "transaction", ID: id})
			}
		}
		m.add(EventNewIncomeStream, st.LastDate,
			fmt.Sprintf("A new %s income of about %s (%d payments since %s) appeared.",
				strings.ToLower(st.Frequency), m.money(st.AverageAmount), st.Occurrences, st.FirstDate),
			ev, st.TransactionIDs[0])
	}
}
