package fcsandbox

import (
	"github.com/cashflow-underwriting/underwriter/ledger"

	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
)

// Stories after the loan: what a linked account's transactions do once the simulated
// clock moves past the end of its ledger (Server.Advance). The default, StorySteady,
// continues the ledger as it was; the others change it on given days after the link.
const (
	// StorySteady continues the ledger: every recurring income and bill on its own
	// cadence (weekly, biweekly, monthly or semi-monthly, with the amounts of its past
	// occurrences in turn), and the everyday spending replayed from the last 28-day
	// blocks of history (same weekday, blocks drawn from the account's seed).
	StorySteady = "steady"
	// StoryJobLoss: the main income (the recurring inflow with the largest monthly total)
	// stops after day 60: no pay day in month 3 or later.
	StoryJobLoss = "job_loss"
	// StoryStackingBorrower: two payday loans, each advanced and repaid two weeks later:
	// SPEEDY CASH +400.00 on day 20, -460.00 on day 34; CHECK INTO CASH +500.00 on day
	// 27, -575.00 on day 41.
	StoryStackingBorrower = "stacking_borrower"
	// StoryOverdraftSpiral: on day 30 an emergency payment leaves 50.00 in the account;
	// the next card payments overdraw it, and from then on the bank charges an
	// OVERDRAFT FEE of 35.00 each time a debit takes the balance below zero (once per
	// overdraft episode).
	StoryOverdraftSpiral = "overdraft_spiral"
	// StorySecondJob: a new weekly payroll (HOOLI INC PAYROLL, about 320.00) from day 10.
	StorySecondJob = "second_job"
	// StoryWindfall: one MOBILE CHECK DEPOSIT on day 25 of the monthly income (at least
	// 1,000.00) plus 500.00.
	StoryWindfall = "windfall"
	// StoryAutoLoan: a new car loan paid monthly from day 21 (TOYOTA FINANCIAL PMT 350.00).
	StoryAutoLoan = "auto_loan"
	// StoryDisconnect: the bank connection breaks on day 45: the account becomes
	// disconnected (financial_connections.account.disconnected), its subscription ends
	// and it refreshes no more.
	StoryDisconnect = "disconnect"
)

// storyAliasSep joins a persona and a story in a link's persona field:
// "steady_salaried_then_job_loss" links steady_salaried with StoryJobLoss.
const storyAliasSep = "_then_"

// AfterLoanStory describes one story (GET /sandbox/v1/stories, Stories).
type AfterLoanStory struct {
	Name string `json:"name"`
	// Text says what happens, with the days counted from the end of the linked ledger
	// (the link).
	Text string `json:"text"`
	// Events are the early-warning event types (scoring.Monitor's) the story makes fire
	// on steady_salaried within its first 120 days; none for StorySteady.
	Events []string `json:"events"`
}

// storyRule is how a story changes the continuation.
type storyRule struct {
	AfterLoanStory
	// mainIncomeStopsAfter stops the main income after that day (0 = never).
	mainIncomeStopsAfter int
	// overdraftFees makes the bank charge a fee when a debit takes the balance below
	// zero, from that day on (0 = never).
	overdraftFeesFrom int
	// disconnectDay disconnects the account that day (0 = never).
	disconnectDay int
	// extra adds the story's own transactions of day k.
	extra func(p *futurePlan, k int, day time.Time) []futureTxn
}

var stories = []storyRule{
	{AfterLoanStory: AfterLoanStory{Name: StorySteady, Events: []string{},
		Text: "The ledger goes on as it was: recurring income and bills on their cadence, everyday spending replayed from recent weeks."}},
	{AfterLoanStory: AfterLoanStory{Name: StoryJobLoss, Events: []string{"INCOME_STOPPED", "INCOME_DROP", "LOW_BALANCE", "NSF_OVERDRAFT_DETECTED"},
		Text: "The main income stops after day 60 (no pay day in month 3 or later); spending goes on and the balance slides."},
		mainIncomeStopsAfter: 60},
	{AfterLoanStory: AfterLoanStory{Name: StoryStackingBorrower, Events: []string{"NEW_HIGH_RISK_LENDER"},
		Text: "Two payday loans: SPEEDY CASH advances 400.00 on day 20 (repaid 460.00 on day 34), CHECK INTO CASH 500.00 on day 27 (repaid 575.00 on day 41)."},
		extra: func(p *futurePlan, k int, day time.Time) []futureTxn {
			switch k {
			case 20:
				return []futureTxn{{at: day.Add(11 * time.Hour), amount: 40000, desc: "SPEEDY CASH"}}
			case 27:
				return []futureTxn{{at: day.Add(11 * time.Hour), amount: 50000, desc: "CHECK INTO CASH"}}
			case 34:
				return []futureTxn{{at: day.Add(9 * time.Hour), amount: -46000, desc: "SPEEDY CASH"}}
			case 41:
				return []futureTxn{{at: day.Add(9 * time.Hour), amount: -57500, desc: "CHECK INTO CASH"}}
			}
			return nil
		}},
	{AfterLoanStory: AfterLoanStory{Name: StoryOverdraftSpiral, Events: []string{"LOW_BALANCE", "NSF_OVERDRAFT_DETECTED"},
		Text: "On day 30 an emergency payment (EMERGENCY VET CLINIC) leaves 50.00; the next debits overdraw the account, and each overdraft from then on costs a 35.00 OVERDRAFT FEE."},
		overdraftFeesFrom: 30,
		extra: func(p *futurePlan, k int, day time.Time) []futureTxn {
			if k == 30 {
				return []futureTxn{{at: day.Add(8 * time.Hour), desc: "EMERGENCY VET CLINIC", drainTo: 5000}}
			}
			return nil
		}},
	{AfterLoanStory: AfterLoanStory{Name: StorySecondJob, Events: []string{"NEW_INCOME_STREAM"},
		Text: "A second job pays weekly from day 10 (HOOLI INC PAYROLL, about 320.00)."},
		extra: func(p *futurePlan, k int, day time.Time) []futureTxn {
			if k >= 10 && (k-10)%7 == 0 {
				return []futureTxn{{at: day.Add(9 * time.Hour), amount: 32000 + p.rand(k, "second_job").between(-800, 800), desc: "HOOLI INC PAYROLL"}}
			}
			return nil
		}},
	{AfterLoanStory: AfterLoanStory{Name: StoryWindfall, Events: []string{"LARGE_DEPOSIT"},
		Text: "A MOBILE CHECK DEPOSIT on day 25 of the monthly income (at least 1,000.00) plus 500.00."},
		extra: func(p *futurePlan, k int, day time.Time) []futureTxn {
			if k == 25 {
				return []futureTxn{{at: day.Add(13 * time.Hour), amount: max(p.monthlyIncome, 100000) + 50000, desc: "MOBILE CHECK DEPOSIT"}}
			}
			return nil
		}},
	{AfterLoanStory: AfterLoanStory{Name: StoryAutoLoan, Events: []string{"NEW_LOAN_PAYMENT"},
		Text: "A new car loan, paid monthly from day 21 (TOYOTA FINANCIAL PMT 350.00)."},
		extra: func(p *futurePlan, k int, day time.Time) []futureTxn {
			if k >= 21 && dayOfMonthMatches(p.dayTime(p.endDay+21), day) {
				return []futureTxn{{at: day.Add(10 * time.Hour), amount: -35000, desc: "TOYOTA FINANCIAL PMT"}}
			}
			return nil
		}},
	{AfterLoanStory: AfterLoanStory{Name: StoryDisconnect, Events: []string{"ACCOUNT_DISCONNECTED"},
		Text: "The bank connection breaks on day 45: the account is disconnected and refreshes no more."},
		disconnectDay: 45},
}

// Stories returns the stories after the loan a link can choose (LinkRequest.AfterLoan,
// Persona.AfterLoan, or "<persona>_then_<story>" as the persona).
func Stories() []AfterLoanStory {
	out := make([]AfterLoanStory, len(stories))
	for i, st := range stories {
		out[i] = st.AfterLoanStory
		out[i].Events = slices.Clone(st.Events)
	}
	return out
}

func storyByName(name string) (*storyRule, bool) {
	if name == "" {
		name = StorySteady
	}
	for i := range stories {
		if stories[i].Name == name {
			return &stories[i], true
		}
	}
	return nil, false
}

func validStory(name string) error {
	if _, ok := storyByName(name); ok {
		return nil
	}
	names := make([]string, len(stories))
	for i, st := range stories {
		names[i] = st.Name
	}
	return fmt.Errorf("%q is not a story; known stories: %s", name, strings.Join(names, ", "))
}

// dayOfMonthMatches reports whether day falls on first's day of month (clamped to the
// month's last day).
func dayOfMonthMatches(first, day time.Time) bool {
	last := time.Date(day.Year(), day.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return day.Day() == min(first.Day(), last)
}

// futureTxn is one generated transaction before it gets its id.
type futureTxn struct {
	at     time.Time
	amount int64
	desc   string
	// drainTo, when > 0, makes the amount whatever takes the running balance to it.
	drainTo int64
}

// series is one recurring stream of the ledger, continued on its cadence.
type series struct {
	key      string
	inflow   bool
	periodD  int // days between occurrences; 0 = monthly (same day of month)
	next     time.Time
	amounts  []int64
	descs    []string
	j        int
	monthly  int64 // average amount per 30 days
	dayOfMon int   // monthly: the day of month of the last occurrence
}

func (sr *series) advance() {
	if sr.periodD > 0 {
		sr.next = sr.next.AddDate(0, 0, sr.periodD)
		return
	}
	y, m, _ := sr.next.Date()
	last := time.Date(y, m+2, 0, 0, 0, 0, 0, time.UTC).Day()
	h, mi, s := sr.next.Clock()
	sr.next = time.Date(y, m+1, min(sr.dayOfMon, last), h, mi, s, 0, time.UTC)
}

// futurePlan generates an account's transactions after its ledger, day by day. It is
// a pure function of the account's linked ledger, its story and its seed: the same
// link replayed gives the same amounts, descriptions and times (ids are new per link).
type futurePlan struct {
	seed          uint64
	story         *storyRule
	start         int64 // the ledger's end (rebased balance.as_of), unix seconds
	endDay        int64 // UTC day number of start
	ccy           string
	bal           int64 // running balance.current through the generated days
	recur         []*series
	main          *series                        // the main income (largest monthly inflow), or nil
	byDay         map[int64][]ledger.Transaction // replayable history by UTC day
	blocks        int                            // 28-day history blocks available to replay
	nextDay       int64                          // next UTC day to generate
	queue         []futureTxn                    // generated, not yet released (later than the clock)
	monthlyIncome int64                          // the recurring inflows' total per 30 days
	disconnectAt  int64                          // unix seconds of the story's disconnection (0 = none)
}

const secondsPerDay = 86400

func dayNum(unix int64) int64 {
	if unix < 0 {
		return (unix - secondsPerDay + 1) / secondsPerDay
	}
	return unix / secondsPerDay
}

func (p *futurePlan) dayTime(d int64) time.Time { return time.Unix(d*secondsPerDay, 0).UTC() }

// descKey groups descriptions as scoring's streams do: upper case, punctuation as
// spaces, tokens holding digits dropped.
func descKey(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '*' || r == '&' {
			return unicode.ToUpper(r)
		}
		return ' '
	}, s)
	var keep []string
	for _, tok := range strings.Fields(s) {
		if strings.IndexFunc(tok, unicode.IsDigit) < 0 {
			keep = append(keep, tok)
		}
	}
	return strings.Join(keep, " ")
}

// planSeed derives an account's seed from its persona, story and place in the ledger.
func planSeed(persona, story string, index int) uint64 {
	if story == "" {
		story = StorySteady
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d", persona, story, index)
	return h.Sum64()
}

// newFuturePlan studies the account's linked ledger (its posted transactions) and
// prepares the continuation. Callers hold s.mu.
func newFuturePlan(a *account) *futurePlan {
	st, _ := storyByName(a.afterLoan)
	p := &futurePlan{seed: a.seed, story: st, ccy: "usd"}
	p.start = a.json.Created
	if a.ledgerBalance != nil {
		p.start = a.ledgerBalance.AsOf
		for c, v := range a.ledgerBalance.Current {
			p.ccy, p.bal = c, v
		}
	}
	p.endDay = dayNum(p.start)
	p.nextDay = p.endDay
	if st.disconnectDay > 0 {
		p.disconnectAt = p.dayTime(p.endDay + int64(st.disconnectDay)).Add(12 * time.Hour).Unix()
	}
	var posted []ledger.Transaction
	for _, t := range a.txns {
		if t.json.Status == "posted" && t.json.TransactedAt <= p.start {
			posted = append(posted, t.json)
		}
	}
	slices.SortFunc(posted, func(x, y ledger.Transaction) int {
		return cmp.Or(cmp.Compare(x.TransactedAt, y.TransactedAt), strings.Compare(x.ID, y.ID))
	})
	groups := map[string][]ledger.Transaction{}
	var keys []string
	for _, t := range posted {
		k := descKey(t.Description)
		if t.Amount > 0 {
			k = "+" + k
		}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], t)
	}
	sort.Strings(keys)
	recurring := map[string]bool{}
	for _, k := range keys {
		if sr := detectSeries(k, groups[k], p.start); sr != nil {
			for _, x := range sr {
				p.recur = append(p.recur, x)
				if x.inflow {
					p.monthlyIncome += x.monthly
					if p.main == nil || x.monthly > p.main.monthly {
						p.main = x
					}
				}
			}
			recurring[k] = true
		}
	}
	p.byDay = map[int64][]ledger.Transaction{}
	first := p.endDay
	if len(posted) > 0 {
		first = dayNum(posted[0].TransactedAt)
	}
	for _, t := range posted {
		k := descKey(t.Description)
		if t.Amount > 0 {
			k = "+" + k
		}
		// One-off inflows (a tax refund, a large check) are not replayed.
		if recurring[k] || (t.Amount > 0 && len(groups[k]) < 2) {
			continue
		}
		d := dayNum(t.TransactedAt)
		p.byDay[d] = append(p.byDay[d], t)
	}
	p.blocks = min(3, int((p.endDay-first)/28))
	return p
}

// detectSeries returns the recurring series of one description group, or nil: at least
// three occurrences every 7, 14, 21 or 28 days (±1), monthly (26–33 days apart), or
// semi-monthly (two interleaved monthly series). A series whose next occurrence was
// due more than two days before the ledger's end has stopped and is not continued.
func detectSeries(key string, ts []ledger.Transaction, end int64) []*series {
	if len(ts) < 3 {
		return nil
	}
	gaps := make([]int64, 0, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		gaps = append(gaps, dayNum(ts[i].TransactedAt)-dayNum(ts[i-1].TransactedAt))
	}
	within := func(gs []int64, lo, hi int64) bool {
		for _, g := range gs {
			if g < lo || g > hi {
				return false
			}
		}
		return true
	}
	mk := func(occ []ledger.Transaction, periodD int) *series {
		last := occ[len(occ)-1]
		sr := &series{key: key, inflow: last.Amount > 0, periodD: periodD,
			next: time.Unix(last.TransactedAt, 0).UTC(), dayOfMon: time.Unix(last.TransactedAt, 0).UTC().Day()}
		// The amounts of the last occurrences (at most six), continued in turn.
		from := max(0, len(occ)-6)
		var sum int64
		for _, t := range occ[from:] {
			sr.amounts = append(sr.amounts, t.Amount)
			sr.descs = append(sr.descs, t.Description)
			sum += t.Amount
		}
		avg := sum / int64(len(sr.amounts))
		if periodD > 0 {
			sr.monthly = avg * 30 / int64(periodD)
		} else {
			sr.monthly = avg
		}
		sr.advance()
		if sr.next.Unix() <= end-2*secondsPerDay {
			return nil // stopped within the history
		}
		return sr
	}
	for _, p := range []int64{7, 14, 21, 28} {
		if within(gaps, p-1, p+1) {
			if sr := mk(ts, int(p)); sr != nil {
				return []*series{sr}
			}
			return nil
		}
	}
	if within(gaps, 26, 33) {
		if sr := mk(ts, 0); sr != nil {
			return []*series{sr}
		}
		return nil
	}
	if within(gaps, 12, 19) && len(ts) >= 6 {
		var out []*series
		for par := range 2 {
			var half []ledger.Transaction
			for i := par; i < len(ts); i += 2 {
				half = append(half, ts[i])
			}
			if sr := mk(half, 0); sr != nil {
				out = append(out, sr)
			}
		}
		if len(out) == 2 {
			return out
		}
	}
	return nil
}

// planRand is a splitmix64 stream seeded by the plan's seed, a day and a purpose, so
// that a day's draws do not depend on how the clock was advanced.
type planRand struct{ s uint64 }

func (p *futurePlan) rand(k int, purpose string) *planRand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%d\x00%s", p.seed, k, purpose)
	return &planRand{s: h.Sum64()}
}

func (r *planRand) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *planRand) between(lo, hi int64) int64 { return lo + int64(r.next()%uint64(hi-lo+1)) }

// generateDay returns the transactions of UTC day d, in time order, with the running
// balance applied (drains sized, overdraft fees charged).
func (p *futurePlan) generateDay(d int64) []futureTxn {
	k := int(d - p.endDay)
	day := p.dayTime(d)
	var out []futureTxn
	for _, sr := range p.recur {
		for dayNum(sr.next.Unix()) == d {
			amt, desc := sr.amounts[sr.j%len(sr.amounts)], sr.descs[sr.j%len(sr.descs)]
			at := sr.next
			sr.j++
			sr.advance()
			if sr == p.main {
				if n := p.story.mainIncomeStopsAfter; n > 0 && k > n {
					continue
				}
			}
			out = append(out, futureTxn{at: at, amount: amt, desc: desc})
		}
	}
	if k >= 1 && p.blocks > 0 {
		m := int64(1 + p.rand(k, "block").between(0, int64(p.blocks-1)))
		o := (d - p.endDay) % 28
		src := p.endDay - 28*m + o
		for _, t := range p.byDay[src] {
			out = append(out, futureTxn{at: time.Unix(t.TransactedAt, 0).UTC().AddDate(0, 0, int(d-src)), amount: t.Amount, desc: t.Description})
		}
	}
	if p.story.extra != nil {
		out = append(out, p.story.extra(p, k, day)...)
	}
	// Only what happens after the ledger's end.
	out = slices.DeleteFunc(out, func(t futureTxn) bool { return t.at.Unix() <= p.start })
	slices.SortStableFunc(out, func(x, y futureTxn) int { return x.at.Compare(y.at) })
	var withFees []futureTxn
	fees := p.story.overdraftFeesFrom > 0 && k >= p.story.overdraftFeesFrom
	for _, t := range out {
		if t.drainTo > 0 {
			t.amount = min(t.drainTo-p.bal, -1)
		}
		before := p.bal
		p.bal += t.amount
		withFees = append(withFees, t)
		if fees && t.amount < 0 && before >= 0 && p.bal < 0 {
			p.bal -= odFeeMinor
			withFees = append(withFees, futureTxn{at: t.at.Add(time.Minute), amount: -odFeeMinor, desc: "OVERDRAFT FEE"})
		}
	}
	return withFees
}

// odFeeMinor is the overdraft fee of StoryOverdraftSpiral's bank (35.00).
const odFeeMinor = 3500
