package main

import "time"

// persona describes one sample applicant. Expected outcomes must hold robustly (far
// from every threshold) and under any rebasing of the timestamps; the scoring tests
// check both.
type persona struct {
	name, story, expected string
	loan                  int64 // cents
	term                  int   // months
	refresh               string
	// afterLoan is the sandbox's story after the loan for the persona's accounts ("":
	// steady), what `underwriter dev --after-loan-days` plays.
	afterLoan string
	seed      uint64
	build     func(g *gen)
}

var personas = []persona{
	{
		name:     "steady_salaried",
		story:    "Salaried warehouse supervisor paid biweekly by direct deposit, pays rent and bills on time and keeps a growing cushion.",
		expected: "approve", loan: 300000, term: 12, refresh: "succeeded", seed: 101,
		build: func(g *gen) {
			g.history(240)
			a := g.account("checking", "Everyday Checking", "6789", 185000, odNone)
			g.every(4, 14, func(d time.Time) {
				g.post(a, d, 214837+g.r.between(-1500, 1500), "ACME CORP PAYROLL PPD ID: 4470021938")
			})
			household(g, a, 145000, 1.0)
			g.spend(a, 3, flat, groceries, dining, fuel, shopping)
			extras(g, a, 0.08)
			g.pending(a, -2314, "STARBUCKS STORE 09211")
			g.pending(a, -6420, "KROGER #0412")
			g.void(a, g.start.AddDate(0, 0, 60), -15000, "HOTEL AUTH HOLD MARRIOTT")
		},
	},
	{
		name:     "gig_irregular",
		story:    "Rideshare and delivery driver with weekly Uber payouts plus irregular DoorDash and Instacart pay, a thin cushion and a recent large mobile check deposit.",
		expected: "refer", loan: 150000, term: 12, refresh: "succeeded", seed: 202,
		build: func(g *gen) {
			g.history(215)
			a := g.account("checking", "Student Checking", "4410", 42000, odPerEpisode)
			a.floor = ptr(int64(60000))
			g.every(2, 7, func(d time.Time) {
				g.post(a, d, 46500*g.r.between(86, 114)/100, "UBER *TRIP PAYOUT")
			})
			g.eachDay(func(d time.Time, _ int) {
				if g.r.chance(0.10) {
					g.post(a, d, g.r.between(3500, 19000), "DOORDASH DASHER PAYOUT "+d.Format("0102"))
				}
				if g.r.chance(0.05) {
					g.post(a, d, g.r.between(5000, 14000), "INSTACART SHOPPER PAY")
				}
				if g.r.chance(0.30) {
					m := fuel[g.r.intn(len(fuel))]
					g.postDiscretionary(a, d, -g.r.between(m.lo, m.hi), m.desc)
				}
			})
			g.monthly(1, func(d time.Time) { g.post(a, d, -90000, "ZELLE PAYMENT TO MARIA LOPEZ RENT") })
			g.monthly(22, func(d time.Time) { g.post(a, d, -6500, "T-MOBILE AUTOPAY") })
			g.monthly(8, func(d time.Time) { g.post(a, d, -14210, "PROGRESSIVE INS AUTOPAY") })
			g.monthly(14, func(d time.Time) { g.post(a, d, -1099, "SPOTIFY USA") })
			g.spend(a, 3, flat, groceries, dining, shopping)
			g.post(a, time.Date(2026, 10, 8, 0, 0, 0, 0, time.UTC), 240000, "MOBILE CHECK DEPOSIT REF 5521")
			g.pending(a, -3812, "SHELL OIL 57444")
		},
	},
	{
		name:     "overdraft_nsf",
		story:    "Hourly retail worker whose spending and payday-loan repayments outrun a biweekly paycheck, leaving the account overdrawn with repeated overdraft fees.",
		expected: "decline", loan: 100000, term: 6, refresh: "succeeded", seed: 303,
		build: func(g *gen) {
			g.history(230)
			a := g.account("checking", "Basic Checking", "0032", 15000, odPerItem)
			a.floor = ptr(int64(0))
			g.every(6, 14, func(d time.Time) {
				g.post(a, d, 102000+g.r.between(-4000, 4000), "WALMART ASSOC PAYROLL PPD")
				g.post(a, d.AddDate(0, 0, 1), -18000, "SPEEDY CASH PAYMENT")
			})
			g.monthly(1, func(d time.Time) { g.post(a, d, -78000, "RENT PYMT OAKWOOD MGMT") })
			g.monthly(11, func(d time.Time) { g.post(a, d, -4500, "CREDIT ONE BANK PYMT") })
			g.monthly(19, func(d time.Time) { g.post(a, d, -7000, "CRICKET WIRELESS") })
			g.monthly(24, func(d time.Time) { g.post(a, d, -g.r.between(6000, 11000), "DUKE ENERGY PAYMENT") })
			g.spend(a, 5, func(int) float64 { return 0.45 }, groceries, dining, fuel, shopping)
			g.post(a, time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC), 3500, "OVERDRAFT FEE REVERSAL")
			g.pending(a, -1899, "MCDONALD'S F3321")
		},
	},
	{
		name:     "thin_file",
		story:    "Recent graduate whose only bank account was opened seven weeks ago; paid biweekly with no other history.",
		expected: "decline", loan: 100000, term: 12, refresh: "succeeded", seed: 404,
		build: func(g *gen) {
			g.history(48)
			a := g.account("checking", "Everyday Checking", "1187", 60000, odNone)
			g.every(3, 14, func(d time.Time) { g.post(a, d, 98000+g.r.between(-500, 500), "CHIPOTLE PAYROLL DIR DEP") })
			g.monthly(1, func(d time.Time) { g.post(a, d, -65000, "ZELLE PAYMENT TO ROOMMATE RENT") })
			g.monthly(20, func(d time.Time) { g.post(a, d, -4500, "VISIBLE WIRELESS") })
			g.spend(a, 2, func(int) float64 { return 0.8 }, groceries, dining, rides)
		},
	},
	{
		name:     "declining_balances",
		story:    "Logistics clerk with steady biweekly pay whose spending and new auto and buy-now-pay-later payments have grown month after month until the account stays overdrawn.",
		expected: "decline", loan: 250000, term: 12, refresh: "succeeded", seed: 505,
		build: func(g *gen) {
			g.history(250)
			a := g.account("checking", "Everyday Checking", "7350", 650000, odPerEpisode)
			g.every(5, 14, func(d time.Time) { g.post(a, d, 185000+g.r.between(-2000, 2000), "NORTHWIND LOGISTICS PAYROLL") })
			household(g, a, 125000, 1.0)
			// Spending grows linearly from 0.9× to 2.2× over the history.
			g.spend(a, 3, func(i int) float64 { return 0.9 + 1.3*float64(i)/250 }, groceries, dining, fuel, shopping, rides)
			g.eachDay(func(d time.Time, i int) {
				if i >= 120 && d.Day() == 15 {
					g.post(a, d, -48900, "CARMAX AUTO FINANCE PMT")
				}
				if i >= 150 && (d.Day() == 5 || d.Day() == 20) {
					g.post(a, d, -8750, "AFFIRM *PAYMENT")
				}
			})
			extras(g, a, 0.04)
			g.pending(a, -5230, "WALMART SUPERCENTER #2231")
		},
	},
	{
		name:     "high_income_two_accounts",
		story:    "Software engineer paid semi-monthly with a checking account and a savings account that receives a monthly transfer; applies for a larger loan.",
		expected: "approve", loan: 1500000, term: 24, refresh: "succeeded", seed: 606,
		afterLoan: "stacking_borrower",
		build: func(g *gen) {
			g.history(270)
			chk := g.account("checking", "Premier Checking", "2290", 820000, odNone)
			sav := g.account("savings", "High Yield Savings", "8841", 2100000, odNone)
			g.monthly(1, func(d time.Time) { g.post(chk, d, 486000+g.r.between(-800, 800), "GLOBEX CORP DIR DEP") })
			g.monthly(15, func(d time.Time) { g.post(chk, d, 486000+g.r.between(-800, 800), "GLOBEX CORP DIR DEP") })
			g.monthly(2, func(d time.Time) { g.post(chk, d, -235000, "ROCKET MORTGAGE PMT") })
			g.monthly(25, func(d time.Time) { g.post(chk, d, -g.r.between(110000, 220000), "CHASE CREDIT CRD AUTOPAY") })
			g.monthly(16, func(d time.Time) {
				g.post(chk, d, -150000, "ONLINE TRANSFER TO SAVINGS XXXXXX8841")
				g.post(sav, d, 150000, "ONLINE TRANSFER FROM CHECKING XXXXXX2290")
			})
			g.monthly(31, func(d time.Time) { g.post(sav, d, g.r.between(3800, 4600), "INTEREST PAYMENT") })
			g.monthly(6, func(d time.Time) { g.post(chk, d, -g.r.between(9000, 21000), "PG&E WEB ONLINE") })
			g.monthly(12, func(d time.Time) { g.post(chk, d, -11999, "COMCAST XFINITY") })
			g.monthly(20, func(d time.Time) { g.post(chk, d, -9500, "VERIZON WIRELESS PAYMENTS") })
			g.monthly(9, func(d time.Time) { g.post(chk, d, -2299, "NETFLIX.COM") })
			g.monthly(3, func(d time.Time) { g.post(chk, d, -18240, "STATE FARM INSURANCE") })
			g.spend(chk, 3, func(int) float64 { return 1.3 }, groceries, dining, fuel, shopping)
			extras(g, chk, 0.06)
			g.pending(chk, -8734, "WHOLEFDS MKT 10234")
			g.void(chk, g.start.AddDate(0, 0, 100), -40000, "DELTA AIR AUTH HOLD")
		},
	},
	{
		name:     "refresh_fails",
		story:    "Salaried office manager with a healthy account whose bank connection fails when the lender asks for a fresh refresh.",
		expected: "refer", loan: 200000, term: 12, refresh: "failed", seed: 707,
		build: func(g *gen) {
			g.history(225)
			a := g.account("checking", "Everyday Checking", "5512", 240000, odNone)
			g.every(9, 14, func(d time.Time) { g.post(a, d, 238012+g.r.between(-1200, 1200), "INITECH PAYROLL PPD ID: 9921005533") })
			household(g, a, 160000, 1.1)
			g.spend(a, 3, flat, groceries, dining, fuel, shopping)
			extras(g, a, 0.08)
			g.pending(a, -4510, "TARGET T-1234")
		},
	},
}

// household schedules the monthly bills of a typical renter: rent on the 1st and
// utilities, phone, subscriptions and insurance through the month, scaled by k.
func household(g *gen, a *account, rent int64, k float64) {
	s := func(c int64) int64 { return int64(float64(c) * k) }
	g.monthly(1, func(d time.Time) { g.post(a, d, -rent, "AVALON APTS RENT WEB PMT") })
	g.monthly(3, func(d time.Time) { g.post(a, d, -s(11840), "GEICO AUTO INS") })
	g.monthly(5, func(d time.Time) { g.post(a, d, -s(g.r.between(7000, 14000)), "PG&E WEB ONLINE") })
	g.monthly(9, func(d time.Time) { g.post(a, d, -1549, "NETFLIX.COM") })
	g.monthly(12, func(d time.Time) { g.post(a, d, -s(8999), "COMCAST CABLE COMM") })
	g.monthly(17, func(d time.Time) { g.post(a, d, -2499, "PLANET FITNESS CLUB FEES") })
	g.monthly(20, func(d time.Time) { g.post(a, d, -s(8500), "VERIZON WIRELESS PAYMENTS") })
	g.monthly(14, func(d time.Time) { g.post(a, d, -s(g.r.between(3000, 6000)), "CITY WATER UTIL") })
}

// extras schedules the small irregular items of a real account: ATM withdrawals,
// Venmo cash-outs, marketplace refunds.
func extras(g *gen, a *account, p float64) {
	g.eachDay(func(d time.Time, _ int) {
		if g.r.chance(p) {
			g.post(a, d, -g.r.between(4, 16)*1000, "ATM WITHDRAWAL 0823 MAIN ST")
		}
		if g.r.chance(p / 3) {
			g.post(a, d, g.r.between(1500, 12000), "VENMO CASHOUT")
		}
		if g.r.chance(p / 4) {
			g.post(a, d, g.r.between(1000, 6000), "AMAZON MKTPLACE REFUND")
		}
	})
}

func ptr[T any](v T) *T { return &v }
