package population

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// evKind says how the simulation treats a scheduled transaction.
type evKind uint8

const (
	evIncome evKind = iota // an income deposit: always posts and becomes an IncomeItem
	evInflow               // another deposit (refund, transfer, tax refund, proceeds, advance)
	evBill                 // an ACH debit (housing, bills, debt): always presented, may bounce
	evSpend                // a card purchase or cash withdrawal: skipped below the spending floor
	evSave                 // a transfer to savings: skipped when the balance cannot spare it
)

// Account indexes of an event.
const (
	onChecking = iota
	onSavings
)

// event is one scheduled transaction.
type event struct {
	minute int // minute of the UTC day
	amount int64
	desc   string
	kind   evKind
	acct   int
	income *IncomeItem // evIncome: kind, source and template (the rest is filled at posting)
	savLeg string      // evSave to a linked savings account: the savings leg's description
}

// account is one simulated bank account.
type account struct {
	id, subcategory, display, last4 string
	bal                             int64
	pendingOut                      int64 // Σ pending debits: available = current + pendingOut
	txns                            []ledger.Transaction
}

// Overdraft policies of the simulated banks.
type odPolicy uint8

const (
	odPerItem   odPolicy = iota // pays items into overdraft and charges a fee per item
	odNSFReturn                 // returns ACH debits that would overdraw, charging an NSF fee; declines card purchases
	odNoFee                     // lets the balance go negative without fees (fee-free neobanks)
)

// bank is the applicant's bank: its name, overdraft policy and how its statement words
// fees.
type bank struct {
	institution      string
	policy           odPolicy
	fee              int64 // minor units per fee
	exempt           int64 // no fee while overdrawn by at most this much
	odDesc, nsfDesc  string
	odRevDesc        string
	returnedItemDesc string
}

var banks = []struct {
	bank
	weight float64
}{
	{bank{"Chase", odPerItem, 3400, 5000, "OVERDRAFT FEE", "INSUFFICIENT FUNDS FEE", "OVERDRAFT FEE REVERSAL", "RETURNED ITEM"}, 0.22},
	{bank{"Bank of America", odPerItem, 1000, 0, "OVERDRAFT ITEM FEE", "NSF: RETURNED ITEM FEE", "OD FEE REFUND", "ACH RETURN"}, 0.18},
	{bank{"Wells Fargo", odPerItem, 3500, 5000, "OVERDRAFT FEE FOR A TRANSACTION", "NSF RETURN ITEM FEE", "FEE REVERSAL", "RETURNED ITEM"}, 0.15},
	{bank{"Navy Federal Credit Union", odPerItem, 2000, 0, "COURTESY PAY FEE", "NSF FEE", "COURTESY PAY FEE REFUND", "RETURNED ITEM"}, 0.10},
	{bank{"PNC Bank", odNSFReturn, 3600, 0, "OD ITEM FEE", "NSF FEE", "NSF FEE REVERSAL", "RETURNED ITEM"}, 0.10},
	{bank{"US Bank", odNSFReturn, 3600, 5000, "OVERDRAFT PAID FEE", "INSUFFICIENT FUNDS FEE", "FEE REVERSAL", "RETURN OF POSTED CHECK / ITEM"}, 0.08},
	{bank{"Chime", odNoFee, 0, 0, "", "", "", ""}, 0.12},
	{bank{"Capital One", odNoFee, 0, 0, "", "", "", ""}, 0.05},
}

// Simulation constants.
const (
	asOfMinute        = 12 * 60 // LatestAsOf is at 12:00 UTC and every as-of shares its time
	maxFeesPerDay     = 3       // the usual cap on overdraft or NSF fees a day
	feeReversalChance = 0.08    // banks waive about one fee in twelve on request
	returnShownChance = 0.3     // a bounced ACH debit shows as debit plus return in about a third of statements
	saveKeepMinor     = 15000   // savers skip the transfer rather than leave less than $150
	rescueChance      = 0.85    // a saver moves money back when overdrawn, scaled by (1 − overdraft habit)
	advanceHabit      = 0.45    // overdraft habits above this may use a cash-advance app
	advanceAppChance  = 0.6
	advanceLowMinor   = 5000 // an advance is taken when the balance falls below $50
	floorTopMinor     = 30000
	floorSpanMinor    = 90000 // spending floor = $300 − $900·habit: the habitual overdrafter spends to −$600
	postLagSeconds    = 3600  // posted an hour after the authorisation
	// voidedDepositChance: now and then a mobile check deposit is rejected and voided.
	voidedDepositChance = 0.03
	voidLagDays         = 2 // an authorisation hold drops off after two days
	voidLagSeconds      = voidLagDays * 86400
)

// Savings, rescues and cash advances.
const (
	minSavingsMonths     = 0.3 // a saver's savings hold 0.3 to 3 months of income at the start…
	maxSavingsMonths     = 3   // …times (1 − overdraft habit)
	savingsLegLagChance  = 0.3 // the savings leg of a transfer posts the next day…
	savingsLegMinutes    = 90  // …or up to an hour and a half after the checking leg
	minRescueCushion     = 10000
	maxRescueCushion     = 30000 // a rescue leaves $100–$300 above zero…
	rescueStepMinor      = 5000  // …rounded up to $50
	advanceTakeChance    = 0.5   // an app user takes an advance on half the low days
	advanceStepMinor     = 2500  // advances of $50–$250 in $25 steps
	minAdvanceSteps      = 2
	maxAdvanceSteps      = 10
	minAdvanceDays       = 7 // repaid on the next payday, one to two weeks later…
	maxAdvanceDays       = 14
	maxAdvanceTipDollars = 15 // …with a tip or fee of up to $15
)

// Pending and voided items.
var pendingCountWeights = []float64{0.30, 0.35, 0.25, 0.10} // 0–3 card purchases pending on the as-of morning

const (
	pendingPayoutChance     = 0.15 // a platform payout still pending on the as-of morning
	minPendingPayoutShare   = 0.02 // of the month's platform income
	maxPendingPayoutShare   = 0.08
	maxVoids                = 2 // voided authorisation holds in a history
	minHoldDollars          = 50
	maxHoldDollars          = 400
	minVoidedDepositDollars = 100
	maxVoidedDepositDollars = 1500
)

// builder writes one applicant's ledger.
type builder struct {
	r          *rng
	p          Profile
	t          Traits
	start      time.Time // midnight UTC of the first day of history
	dates      []time.Time
	evs        [][]event
	vars       map[string]string // fixed placeholder values shared by the applicant's payees
	chk, sav   *account          // sav is nil unless the savings account is linked
	extSavings int64             // balance of a savings account at another bank
	saveTmpl   int               // index into linkedSaveTemplates / externalSaveTemplates
	bank       bank
	floor      int64
	advance    int // index into advanceApps, −1 when the applicant uses none
	advanceDue int // day the outstanding advance is repaid (−1: none outstanding)
	refs       []string
	customer   string
	income     []IncomeItem
}

func newBuilder(r *rng, p Profile) *builder {
	b := &builder{r: r, p: p, t: p.Traits, vars: map[string]string{}, advance: -1, advanceDue: -1}
	asOfDay := time.Date(p.AsOf.Year(), p.AsOf.Month(), p.AsOf.Day(), 0, 0, 0, 0, time.UTC)
	b.start = asOfDay.AddDate(0, 0, -p.Traits.HistoryDays)
	for d := b.start; !d.After(asOfDay); d = d.AddDate(0, 0, 1) {
		b.dates = append(b.dates, d)
	}
	b.evs = make([][]event, len(b.dates))
	return b
}

// days is the number of history days, the as-of day included.
func (b *builder) days() int { return len(b.dates) }

// dayIndex returns the history index of a date (negative or ≥ days() outside).
func (b *builder) dayIndex(d time.Time) int { return int(d.Sub(b.start).Hours() / 24) }

// window is a span of minutes after midnight UTC in which a kind of transaction posts.
type window struct{ from, to int }

var (
	benefitWindow   = window{180, 420}                         // 03:00–07:00: Treasury and state ACH credits post first
	earlyWindow     = window{240, 480}                         // 04:00–08:00: tax refunds, unemployment, advance repayments
	achWindow       = window{240, 600}                         // 04:00–10:00: ACH debits (housing, bills, loans)
	payWindow       = window{300, 540}                         // 05:00–09:00: payroll and scheduled payouts
	morningWindow   = window{360, 600}                         // 06:00–10:00: advances and transfers made first thing
	shopWindow      = window{420, 1320}                        // 07:00–22:00: card purchases and cash
	dayWindow       = window{480, 1200}                        // 08:00–20:00: refunds and authorisations
	p2pWindow       = window{480, 1380}                        // 08:00–23:00: money from friends and family
	officeWindow    = window{540, 1020}                        // 09:00–17:00: fee reversals
	afternoonWindow = window{600, 1080}                        // 10:00–18:00: loan proceeds
	lateDayWindow   = window{600, 1200}                        // 10:00–20:00: savings transfers, freelance withdrawals
	eveningWindow   = window{900, 1380}                        // 15:00–23:00: instant cash-outs after a shift
	nightWindow     = window{1200, 1380}                       // 20:00–23:00: month-end interest
	pendingWindow   = window{asOfMinute - 240, asOfMinute - 1} // the as-of morning
)

// at draws a minute of day i in w (see minute).
func (b *builder) at(i int, w window) int { return b.minute(i, w.from, w.to) }

// minute draws a minute in [lo, hi], kept before balance.as_of on the as-of day.
func (b *builder) minute(i, lo, hi int) int {
	if i == b.days()-1 {
		hi = min(hi, asOfMinute-1)
		lo = min(lo, hi)
	}
	return lo + b.r.intn(hi-lo+1)
}

// add schedules ev on day i; days outside the history are dropped.
func (b *builder) add(i int, ev event) {
	if i < 0 || i >= b.days() || ev.amount == 0 {
		return
	}
	b.evs[i] = append(b.evs[i], ev)
}

// payee draws a template and fills its fixed placeholders with the applicant's values.
func (b *builder) payee(templates []string) payee { return newPayee(b.r, pick(b.r, templates), b.vars) }

// build schedules every stream of transactions, simulates the accounts day by day and
// adds the pending and voided items.
func (b *builder) build() {
	b.setup()
	b.scheduleIncome()
	b.scheduleOtherInflows()
	budget := b.scheduleHousingAndBills()
	b.scheduleDebt()
	b.scheduleSpending(budget)
	b.scheduleSavings()
	b.simulate()
	b.addPendingAndVoid()
}

func (b *builder) setup() {
	w := make([]float64, len(banks))
	for i, k := range banks {
		w[i] = k.weight
	}
	b.bank = banks[b.r.weighted(w)].bank
	b.customer = "cus_" + b.r.chars(idChars, 14)
	b.refs = []string{"fctxnref_" + b.r.chars(idChars, 24), "fctxnref_" + b.r.chars(idChars, 24)}
	income := float64(b.t.MonthlyIncome)
	b.chk = &account{id: "fca_" + b.r.chars(idChars, 24), subcategory: "checking",
		display: pick(b.r, []string{"Everyday Checking", "Total Checking", "Advantage Checking", "Spending Account"}),
		last4:   b.r.chars(digitChars, 4), bal: int64(b.t.BufferMonths * income),
		txns: make([]ledger.Transaction, 0, txnsPerDay*b.days())}
	h := b.t.OverdraftHabit
	b.floor = floorTopMinor - int64(floorSpanMinor*h)
	if h > advanceHabit && b.r.chance(advanceAppChance) {
		b.advance = b.r.intn(len(advanceApps))
	}
	if b.t.SavingsRate > 0 {
		opening := int64(income * b.r.uniform(minSavingsMonths, maxSavingsMonths) * (1 - h))
		if b.t.SavingsLinked {
			b.sav = &account{id: "fca_" + b.r.chars(idChars, 24), subcategory: "savings",
				display: pick(b.r, []string{"Savings", "High Yield Savings", "Way2Save Savings"}),
				last4:   b.r.chars(digitChars, 4), bal: opening}
			b.saveTmpl = b.r.intn(len(linkedSaveTemplates))
		} else {
			b.extSavings = opening
			b.saveTmpl = b.r.intn(len(externalSaveTemplates))
		}
	}
}

// simulate posts each day's events in time order. Card purchases are skipped below the
// spending floor, ACH debits may overdraw or bounce according to the bank's policy, and
// at the end of each day an overdrawn saver may move money back from savings and an
// overdrawn app user may take a cash advance.
func (b *builder) simulate() {
	for i := range b.days() {
		evs := b.evs[i]
		slices.SortStableFunc(evs, func(x, y event) int { return cmp.Compare(x.minute, y.minute) })
		fees := 0
		for _, ev := range evs {
			b.apply(i, ev, &fees)
		}
		b.endOfDay(i)
	}
}

func (b *builder) apply(i int, ev event, fees *int) {
	if ev.acct == onSavings {
		if b.sav != nil {
			b.post(b.sav, i, ev.minute, ev.amount, ev.desc, ledger.StatusPosted)
		}
		return
	}
	nb := b.chk.bal + ev.amount
	switch ev.kind {
	case evIncome:
		id := b.post(b.chk, i, ev.minute, ev.amount, ev.desc, ledger.StatusPosted)
		it := *ev.income
		it.TransactionID, it.Day, it.Amount, it.Description = id, b.dates[i].Format(time.DateOnly), ev.amount, ev.desc
		b.income = append(b.income, it)
	case evInflow:
		b.post(b.chk, i, ev.minute, ev.amount, ev.desc, ledger.StatusPosted)
	case evSpend:
		floor := b.floor
		if b.bank.policy == odNSFReturn {
			floor = max(floor, 0)
		}
		if nb < floor {
			return // declined at the till, or not bought
		}
		b.post(b.chk, i, ev.minute, ev.amount, ev.desc, ledger.StatusPosted)
		b.overdraftFee(i, ev.minute, nb, fees)
	case evBill:
		if nb < 0 && b.bank.policy == odNSFReturn {
			b.bounce(i, ev, fees)
			return
		}
		b.post(b.chk, i, ev.minute, ev.amount, ev.desc, ledger.StatusPosted)
		b.overdraftFee(i, ev.minute, nb, fees)
	case evSave:
		if nb < saveKeepMinor {
			return
		}
		b.post(b.chk, i, ev.minute, ev.amount, ev.desc, ledger.StatusPosted)
		if b.sav == nil {
			b.extSavings -= ev.amount
			return
		}
		if b.r.chance(savingsLegLagChance) { // the savings leg posts the next morning
			b.add(i+1, event{minute: b.at(i+1, morningWindow), amount: -ev.amount, desc: ev.savLeg, acct: onSavings})
			return
		}
		// The same day: posted now, since today's events are already being walked.
		b.post(b.sav, i, b.minute(i, ev.minute, ev.minute+savingsLegMinutes), -ev.amount, ev.savLeg, ledger.StatusPosted)
	}
}

// overdraftFee charges the per-item overdraft fee of a debit that left the balance at nb.
func (b *builder) overdraftFee(i, minute int, nb int64, fees *int) {
	if b.bank.policy != odPerItem || nb >= -b.bank.exempt || *fees >= maxFeesPerDay {
		return
	}
	*fees++
	b.post(b.chk, i, minute, -b.bank.fee, b.bank.odDesc, ledger.StatusPosted)
	b.maybeReverse(i)
}

// bounce returns an ACH debit unpaid: an NSF fee, and in some statements the debit with
// its return.
func (b *builder) bounce(i int, ev event, fees *int) {
	if b.r.chance(returnShownChance) {
		b.post(b.chk, i, ev.minute, ev.amount, ev.desc, ledger.StatusPosted)
		b.post(b.chk, i, ev.minute, -ev.amount, b.bank.returnedItemDesc, ledger.StatusPosted)
	}
	if *fees >= maxFeesPerDay {
		return
	}
	*fees++
	b.post(b.chk, i, ev.minute, -b.bank.fee, b.bank.nsfDesc, ledger.StatusPosted)
	b.maybeReverse(i)
}

// maybeReverse schedules, now and then, the reversal of a fee just charged.
func (b *builder) maybeReverse(i int) {
	if b.r.chance(feeReversalChance) {
		j := i + 1 + b.r.intn(3)
		b.add(j, event{minute: b.at(j, officeWindow), amount: b.bank.fee, desc: b.bank.odRevDesc, kind: evInflow})
	}
}

// endOfDay credits savings interest at month end, and reacts to a low balance.
func (b *builder) endOfDay(i int) {
	if b.sav != nil && b.dates[i].AddDate(0, 0, 1).Day() == 1 && b.sav.bal > 0 {
		if interest := b.sav.bal * savingsAPYBasisPoints / 10000 / 12; interest > 0 {
			b.post(b.sav, i, b.at(i, nightWindow), interest, interestTemplates[b.saveTmpl%len(interestTemplates)], ledger.StatusPosted)
		}
	}
	if i == b.advanceDue {
		b.advanceDue = -1
	}
	bal := b.chk.bal
	if bal < 0 && b.t.SavingsRate > 0 && b.r.chance(rescueChance*(1-b.t.OverdraftHabit)) {
		if b.rescue(i, bal) {
			return
		}
	}
	if bal < advanceLowMinor && b.advance >= 0 && b.advanceDue < 0 && b.r.chance(advanceTakeChance) {
		app := advanceApps[b.advance]
		amt := advanceStepMinor * b.r.between(minAdvanceSteps, maxAdvanceSteps)
		j, due := i+1, i+1+int(b.r.between(minAdvanceDays, maxAdvanceDays))
		b.add(j, event{minute: b.at(j, morningWindow), amount: amt, desc: newPayee(b.r, app.advance, b.vars).describe(b.r, b.dates[min(j, b.days()-1)]), kind: evInflow})
		if due < b.days() {
			b.add(due, event{minute: b.at(due, earlyWindow), amount: -(amt + 100*b.r.between(0, maxAdvanceTipDollars)),
				desc: newPayee(b.r, app.repay, b.vars).describe(b.r, b.dates[due]), kind: evBill})
		}
		b.advanceDue = due
	}
}

// savingsAPYBasisPoints is the savings account's yield: 2 %, between a big bank's
// near-zero and an online bank's 4 %.
const savingsAPYBasisPoints = 200

// rescue moves money back from savings into an overdrawn checking account the next
// morning; it reports whether there was money to move.
func (b *builder) rescue(i int, bal int64) bool {
	j := i + 1
	if j >= b.days() {
		return false
	}
	need := (-bal + b.r.between(minRescueCushion, maxRescueCushion) + rescueStepMinor - 1) / rescueStepMinor * rescueStepMinor
	m := b.at(j, morningWindow)
	if b.sav != nil {
		amt := min(need, b.sav.bal)
		if amt <= 0 {
			return false
		}
		t := linkedSaveTemplates[b.saveTmpl]
		acct := map[string]string{"ACCT4": b.chk.last4}
		b.add(j, event{minute: m, amount: -amt, desc: newPayee(b.r, t.backSav, acct).describe(b.r, b.dates[j]), acct: onSavings})
		acct = map[string]string{"ACCT4": b.sav.last4}
		b.add(j, event{minute: m, amount: amt, desc: newPayee(b.r, t.back, acct).describe(b.r, b.dates[j]), kind: evInflow})
		return true
	}
	amt := min(need, b.extSavings)
	if amt <= 0 {
		return false
	}
	b.extSavings -= amt
	b.add(j, event{minute: m, amount: amt, desc: externalSaveTemplates[b.saveTmpl].back, kind: evInflow})
	return true
}

// post appends a transaction to a and, when posted, moves its balance.
func (b *builder) post(a *account, i, minute int, amount int64, desc, status string) string {
	at := b.dates[i].Add(time.Duration(minute)*time.Minute + time.Duration(b.r.intn(60))*time.Second)
	if asOf := b.p.AsOf; !at.Before(asOf) {
		at = asOf.Add(-time.Second)
	}
	ts := at.Unix()
	ref := b.refs[0]
	if i >= b.days()-refreshDays {
		ref = b.refs[1]
	}
	t := ledger.Transaction{ID: "fctxn_" + b.r.chars(idChars, 24), Object: ledger.ObjectTransaction, Account: a.id,
		Amount: amount, Currency: currency, Description: desc, Status: status, TransactedAt: ts,
		TransactionRefresh: ref, Updated: ts}
	switch status {
	case ledger.StatusPosted:
		p := min(ts+postLagSeconds, b.p.AsOf.Unix())
		t.StatusTransitions.PostedAt, t.Updated = &p, p
		a.bal += amount
	case ledger.StatusVoid:
		v := ts + voidLagSeconds
		t.StatusTransitions.VoidAt, t.Updated = &v, v
	case ledger.StatusPending:
		if amount < 0 {
			a.pendingOut += amount
		}
	}
	a.txns = append(a.txns, t)
	return t.ID
}

// txnsPerDay sizes the checking account's transaction slice (about three a day).
const txnsPerDay = 3

// refreshDays: transactions of the last 30 days carry the newest refresh's id, older ones
// the first refresh's, as after one initial pull and one incremental refresh.
const refreshDays = 30

const currency = "usd"

// addPendingAndVoid adds the card purchases still pending on the as-of morning, now and
// then a pending deposit, and a few voided authorisations.
func (b *builder) addPendingAndVoid() {
	last := b.days() - 1
	for range b.r.weighted(pendingCountWeights) {
		m := merchants[b.r.intn(len(merchants))]
		amt := int64(float64(m.ticket) * b.r.lognorm(1, 0.5))
		b.post(b.chk, last, b.at(last, pendingWindow), -max(amt, 100),
			newPayee(b.r, m.desc, b.vars).describe(b.r, b.dates[last]), ledger.StatusPending)
	}
	if len(b.t.Platforms) > 0 && b.r.chance(pendingPayoutChance) {
		tm := gigTemplates[b.t.Platforms[0]].instant
		amt := int64(float64(b.t.MonthlyIncome) * b.t.GigShare * b.r.uniform(minPendingPayoutShare, maxPendingPayoutShare))
		b.post(b.chk, last, b.at(last, pendingWindow), max(amt, 500),
			b.payee(tm).describe(b.r, b.dates[last]), ledger.StatusPending)
	}
	for range b.r.intn(maxVoids + 1) {
		i := b.r.intn(max(b.days()-voidLagDays-2, 1))
		b.post(b.chk, i, b.at(i, dayWindow), -100*b.r.between(minHoldDollars, maxHoldDollars),
			b.payee(voidTemplates).describe(b.r, b.dates[i]), ledger.StatusVoid)
	}
	if b.r.chance(voidedDepositChance) {
		i := b.r.intn(max(b.days()-voidLagDays-2, 1))
		b.post(b.chk, i, b.at(i, lateDayWindow), 100*b.r.between(minVoidedDepositDollars, maxVoidedDepositDollars),
			b.payee(voidedDepositTemplates).describe(b.r, b.dates[i]), ledger.StatusVoid)
	}
}

// file returns the ledger: checking first, then the linked savings account, each with its
// transactions newest first as Stripe lists them.
func (b *builder) file() ledger.File {
	asOf := b.p.AsOf.Unix()
	institution := b.bank.institution
	var f ledger.File
	for _, a := range []*account{b.chk, b.sav} {
		if a == nil {
			continue
		}
		txns := a.txns // the builder is done with them: sort in place
		slices.SortStableFunc(txns, func(x, y ledger.Transaction) int {
			if c := cmp.Compare(y.TransactedAt, x.TransactedAt); c != 0 {
				return c
			}
			return strings.Compare(x.ID, y.ID)
		})
		created := asOf - 600 // linked ten minutes before the balance was taken
		f.Accounts = append(f.Accounts, ledger.Entry{
			Account: ledger.Account{
				ID: a.id, Object: ledger.ObjectAccount,
				AccountHolder: &ledger.AccountHolder{Customer: b.customer, Type: "customer"},
				Balance: &ledger.Balance{AsOf: asOf, Type: ledger.CategoryCash,
					Cash:    &ledger.Cash{Available: map[string]int64{currency: a.bal + a.pendingOut}},
					Current: map[string]int64{currency: a.bal}},
				BalanceRefresh:              &ledger.BalanceRefresh{LastAttemptedAt: asOf, Status: "succeeded"},
				Category:                    ledger.CategoryCash,
				Created:                     created,
				DisplayName:                 a.display,
				InstitutionName:             institution,
				Last4:                       a.last4,
				Permissions:                 []string{"balances", "transactions"},
				Status:                      ledger.AccountActive,
				Subcategory:                 a.subcategory,
				Subscriptions:               []string{},
				SupportedPaymentMethodTypes: []string{"link", "us_bank_account"},
				TransactionRefresh:          &ledger.TransactionRefresh{ID: b.refs[1], LastAttemptedAt: asOf, Status: "succeeded"},
			},
			Transactions: txns,
		})
	}
	return f
}
