package population

import (
	"strings"
	"time"
)

// Descriptions are written from templates. A placeholder in braces is filled once per
// payer or payee (the employer, a company id, the holder's name) or afresh for every
// transaction (a reference, the date, a store number), as banks do. The wording varies
// the way real statements vary (ACH company names, "DES:" fields, abbreviations, mixed
// case) and is NOT chosen to match scoring's category rules: some descriptions carry a
// keyword the rules know, many do not.
//
// Fixed per payer: {EMP} employer, {ID4} {ID6} {ID9} {ID10} company and account ids,
// {NAME} the holder's name, {ACCT4} the other account's last four digits, {ST} a state,
// {LENDER} a lender, {LANDLORD} a landlord.
// Per transaction: {REF} a reference, {DATE} MMDD, {N4} a store or terminal number,
// {PERSON} a counterparty's name, {WORD} a letters-only reference.

// fixedPlaceholders are filled once per payer; the others once per transaction.
var fixedPlaceholders = map[string]bool{"EMP": true, "ID4": true, "ID6": true, "ID9": true, "ID10": true,
	"NAME": true, "ACCT4": true, "ST": true, "LENDER": true, "LANDLORD": true}

var (
	employers = []string{"ACME CORP", "NORTHWIND LOGISTICS", "GLOBEX CORP", "INITECH INC", "CONTOSO LTD",
		"UMBRELLA HEALTH SYS", "WAYNE ENTERPRISES", "COUNTY OF ORANGE", "KAISER PERMANENTE", "TARGET CORP",
		"HOME DEPOT USA", "CITY OF AUSTIN", "MEMORIAL HERMANN", "WALMART ASSOC", "STATE OF TEXAS",
		"FEDEX GROUND PKG", "HCA HEALTHCARE", "SCHOOL DIST 12", "CINTAS CORP", "AUTOZONE INC"}
	holderNames = []string{"J SMITH", "MARIA GARCIA", "D JOHNSON", "LINDA NGUYEN", "ROBERT BROWN", "A WILLIAMS",
		"KEISHA JONES", "CARLOS MARTINEZ", "T MILLER", "PRIYA PATEL"}
	people = []string{"JOHN DOE", "SARAH K", "MIKE LOPEZ", "ANA RUIZ", "CHRIS LEE", "TASHA W", "DAVID KIM",
		"EMILY CHEN", "JAMAL B", "ROSA D"}
	states    = []string{"CA", "TX", "NY", "FL", "PA", "IL", "OH", "GA", "NC", "MI"}
	lenders   = []string{"UPSTART", "LENDINGCLUB", "ONEMAIN FINANCIAL", "SOFI", "AVANT", "OPORTUN", "BEST EGG"}
	landlords = []string{"OAKWOOD MGMT", "GREYSTAR", "AVALON APTS", "CAMDEN PROPERTY", "LINCOLN PROPERTY CO",
		"EQUITY RESIDENTIAL", "MAIN ST REALTY"}
)

// payrollTemplates describe pay. About a quarter name no payroll keyword at all.
var payrollTemplates = []string{
	"{EMP} PAYROLL PPD ID: {ID10}",
	"{EMP} DES:PAYROLL ID:{ID9} INDN:{NAME} CO ID:{ID10} PPD",
	"DIRECT DEP {EMP}",
	"{EMP} DIR DEP {DATE}",
	"ADP WAGE PAY {EMP}",
	"GUSTO PAY {ID6} {EMP}",
	"{EMP} SALARY",
	"Payroll Deposit - {EMP}",
	"PAYCHEX TPS {EMP} PAYROLL",
	"{EMP} NET PAY PPD",
	"ACH CREDIT {EMP} PAYRLL {DATE}",
	"{EMP} PPD ID {ID10}",
}

// gigTemplates describe platform payouts: scheduled (weekly or daily settlements) and
// instant (cash-outs on demand).
var gigTemplates = map[Platform]struct{ scheduled, instant []string }{
	Uber: {
		[]string{"UBER *PAYOUT", "Uber Technologi DES:PAYMENTS ID:{REF}", "UBER USA PAYMENTS PPD ID: {ID10}"},
		[]string{"UBER *INSTANT PAY", "UBR* INSTANT CASHOUT {REF}"},
	},
	Lyft: {
		[]string{"Lyft Inc payments", "LYFT INC DES:DIRECT DEP ID:{REF}", "LYFT DRIVER EARNINGS"},
		[]string{"LYFT EXPRESS PAY {REF}", "LYFT *EXPRESS DRIVE"},
	},
	DoorDash: {
		[]string{"DOORDASH DASHER DIRECT DEP", "DOORDASH, INC. DES:DASHER ID:{REF}", "DD DOORDASH PAYOUT"},
		[]string{"DOORDASH FAST PAY {REF}", "DOORDASH*DASHER FASTPAY"},
	},
	Instacart: {
		[]string{"INSTACART SHOPPER PAY", "MAPLEBEAR INC DES:PAYROLL ID:{REF}", "MAPLEBEAR INC PAYMENTS"},
		[]string{"INSTACART INSTANT CASHOUT", "INSTACART* SHOPPER {REF}"},
	},
	Upwork: {
		[]string{"Upwork Escrow Inc", "UPWORK ESCROW INC DES:PAYMENT ID:{REF}", "UPWORK GLOBAL INC PAYMNT"},
		[]string{"Upwork Escrow Inc", "UPWORK GLOBAL INC PAYMNT"},
	},
	Etsy: {
		[]string{"ETSY INC DEPOSIT", "ETSY, INC. DES:PAYOUT ID:{REF}", "Etsy Inc Deposit {DATE}"},
		[]string{"ETSY INC DEPOSIT", "ETSY INSTANT DEPOSIT"},
	},
	Shopify: {
		[]string{"SHOPIFY PAYMENTS", "SHOPIFY DES:TRANSFER ID:ST-{REF}", "SHOPIFY INC PAYOUT {REF}"},
		[]string{"SHOPIFY INSTANT PAYOUT", "SHOPIFY PAYMENTS"},
	},
	Stripe: {
		[]string{"STRIPE TRANSFER ST-{REF}", "STRIPE DES:TRANSFER ID:ST-{REF}", "STRIPE PAYMENTS PAYOUT"},
		[]string{"STRIPE INSTANT PAYOUT {REF}", "STRIPE TRANSFER ST-{REF}"},
	},
	Marketplace: {
		[]string{"EBAY COMMERCE INC PAYOUT", "eBay Com{WORD}", "AMAZON.COM SVCS DES:EDI PYMNTS ID:{REF}",
			"MERCARI INC DEPOSIT"},
		[]string{"POSHMARK INC PAYOUT", "POSHMARK INSTANT TRANSFER", "MERCARI INSTANT PAY"},
	},
}

// benefitTemplates describe benefit deposits.
var benefitTemplates = map[Benefit][]string{
	SocialSecurity: {"SSA TREAS 310 XXSOC SEC", "SSA TREAS 310 DES:XXSOC SEC ID:{ID9} INDN:{NAME} CO ID:{ID10} PPD",
		"US TREASURY 310 SOC SEC {DATE}", "SOCIAL SECURITY DEPOSIT"},
	SSI:      {"SSI TREAS 310 XXSUPP SEC", "US TREASURY 310 XXSUPP SEC", "TREAS 310 SUPP SEC INC"},
	Pension:  {"CALPERS RETIREMENT PMT", "{EMP} PENSION PLAN", "OPM1 TREAS 310 CSA", "PRUDENTIAL ANNUITY PMT", "MET LIFE RETIREE PMT"},
	Veterans: {"VA BENEFITS TREAS 310 VACP", "US TREASURY 310 VACP", "DEPT VETERANS AFFAIRS DEP"},
	Unemployment: {"NYS DOL UI DD", "CA EDD UI BENEFIT {REF}", "TWC-BENEFITS UI PAYMENT", "PA UC BENEFIT PMT",
		"UNEMPLOYMENT INS {ST} {REF}", "FL DEO RA PAYMENT"},
}

// Inflows that are not income.
var (
	refundTemplates = []string{"AMAZON MKTPLACE REFUND", "WALMART.COM RETURN CREDIT", "TARGET T-{N4} REFUND",
		"BEST BUY {N4} RETURN", "MERCHANT CREDIT {REF}"}
	p2pTemplates = []string{"ZELLE FROM {PERSON} ON {DATE}", "VENMO CASHOUT", "CASH APP*CASH OUT",
		"Zelle payment from {PERSON}", "PAYPAL TRANSFER"}
	taxRefundTemplates = []string{"IRS TREAS 310 TAX REF", "IRS TREAS 310 TAX REF", "STATE OF {ST} TAX RFD",
		"{ST} DEPT REVENUE TAX REFUND"}
	loanProceedsTemplates = []string{"{LENDER} LOAN PROCEEDS", "{LENDER} DISBURSEMENT {REF}", "{LENDER} FUNDING"}
	advanceApps           = []struct{ advance, repay string }{
		{"DAVE INC DAVE ADVANCE", "DAVE INC DAVE REPAYMENT"},
		{"EARNIN ACTIVE {REF}", "EARNIN ACTIVE REPAY {REF}"},
		{"BRIGIT ADVANCE", "BRIGIT REPAYMENT"},
		{"MONEYLION INSTACASH", "MONEYLION INSTACASH REPAY"},
	}
)

// Outflows.
var (
	rentTemplates = []string{"{LANDLORD} RENT WEB PMT", "RENT PYMT {LANDLORD}", "APPFOLIO RENT {REF}",
		"RENTCAFE PAYMENT {ID6}", "ZELLE PAYMENT TO {LANDLORD} RENT", "{LANDLORD} PROPERTY MGMT"}
	mortgageTemplates = []string{"ROCKET MORTGAGE PMT", "MR COOPER MTG PMT", "WELLS FARGO HOME MTG",
		"PENNYMAC LOAN SERVICES"}
	utilityTemplates = []string{"PG&E WEB ONLINE", "DUKE ENERGY PAYMENT", "CON ED OF NY", "CITY WATER UTIL",
		"COMCAST XFINITY", "SPECTRUM {ID6}", "AT&T PAYMENT", "XCEL ENERGY-PSCO"}
	phoneTemplates     = []string{"VERIZON WIRELESS PAYMENTS", "T-MOBILE AUTOPAY", "CRICKET WIRELESS", "VISIBLE WIRELESS"}
	insuranceTemplates = []string{"GEICO AUTO INS", "PROGRESSIVE INS AUTOPAY", "STATE FARM INSURANCE",
		"ALLSTATE PAYMENT", "LEMONADE INS"}
	subscriptionTemplates = []string{"NETFLIX.COM", "SPOTIFY USA", "HULU {ID6}", "APPLE.COM/BILL",
		"PLANET FITNESS CLUB FEES", "AMAZON PRIME*{WORD}", "YOUTUBE PREMIUM"}
	autoLoanTemplates     = []string{"TOYOTA FINANCIAL SERVICES", "SANTANDER CONSUMER USA PMT", "CARMAX AUTO FINANCE PMT", "WESTLAKE FINANCIAL SVC", "GM FINANCIAL AUTOPAY"}
	studentLoanTemplates  = []string{"NAVIENT PAYMENT", "DEPT EDUCATION STUDENT LN", "MOHELA LOAN PMT", "NELNET STUDENT LOAN"}
	personalLoanTemplates = []string{"{LENDER} LOAN PMT", "{LENDER} PAYMENT {ID6}", "{LENDER} AUTOPAY"}
	bnplTemplates         = []string{"AFFIRM *PAYMENT", "AFFIRM INC DES:AFFIRM PAY", "KLARNA* INC", "AFTERPAY US INC",
		"SEZZLE INC", "ZIP.CO PAY IN 4"}
	cardPaymentTemplates = []string{"CHASE CREDIT CRD AUTOPAY", "CAPITAL ONE MOBILE PMT", "DISCOVER E-PAYMENT {ID4}",
		"AMEX EPAYMENT ACH PMT", "CITI AUTOPAY PAYMENT", "SYNCHRONY BANK PAYMENT", "BK OF AMER VISA ONLINE PMT",
		"CREDIT ONE BANK PYMT"}
	atmTemplates  = []string{"ATM WITHDRAWAL {N4} MAIN ST", "CASH WDL {N4}", "NON-CHASE ATM WITHDRAW {N4}"}
	voidTemplates = []string{"HOTEL AUTH HOLD MARRIOTT", "SHELL OIL PRE-AUTH {N4}", "ENTERPRISE RENT-A-CAR HOLD",
		"UBER *TRIP PENDING", "DELTA AIR AUTH HOLD"}
	voidedDepositTemplates = []string{"MOBILE CHECK DEPOSIT {REF}", "MOBILE DEPOSIT REF {N4}"}
)

// merchants are card purchases: description and the typical ticket in minor units.
var merchants = []struct {
	desc   string
	ticket int64
}{
	{"KROGER #{N4}", 6000}, {"TRADER JOE'S #{N4}", 4500}, {"WHOLEFDS MKT {N4}", 5500}, {"SAFEWAY #{N4}", 5000},
	{"ALDI {N4}", 4000}, {"STARBUCKS STORE {N4}", 800}, {"CHIPOTLE {N4}", 1500}, {"MCDONALD'S F{N4}", 1100},
	{"DOORDASH*BURGER BARN", 3000}, {"SQ *BLUE BOTTLE COFFEE", 900}, {"SHELL OIL {N4}", 4500},
	{"CHEVRON {N4}", 4800}, {"EXXONMOBIL {N4}", 4200}, {"AMAZON MKTPLACE PMTS", 3500}, {"TARGET T-{N4}", 4500},
	{"WALMART SUPERCENTER #{N4}", 5000}, {"WALGREENS #{N4}", 2000}, {"HOME DEPOT #{N4}", 6000},
	{"UBER *TRIP HELP.UBER.COM", 2000}, {"LYFT *RIDE SUN 9PM", 1800}, {"CVS/PHARMACY #{N4}", 2200},
	{"DOLLAR GENERAL #{N4}", 1500}, {"TST* LOCAL DINER", 2800}, {"STEAM PURCHASE", 2000},
}

// Savings transfers: the checking leg, the savings leg of a linked account, and the
// checking leg of a transfer back.
var (
	linkedSaveTemplates = []struct{ out, in, back, backSav string }{
		{"ONLINE TRANSFER TO SAV XXXXXX{ACCT4}", "ONLINE TRANSFER FROM CHK XXXXXX{ACCT4}",
			"ONLINE TRANSFER FROM SAV XXXXXX{ACCT4}", "ONLINE TRANSFER TO CHK XXXXXX{ACCT4}"},
		{"TRANSFER TO SAVINGS {ACCT4}", "TRANSFER FROM CHECKING {ACCT4}", "TRANSFER FROM SAVINGS {ACCT4}",
			"TRANSFER TO CHECKING {ACCT4}"},
		{"AUTO SAVE XFER TO SAV", "AUTO SAVE XFER FROM CHK", "XFER FROM SAV {ACCT4}", "XFER TO CHK {ACCT4}"},
	}
	externalSaveTemplates = []struct{ out, back string }{
		{"TRANSFER TO ALLY BANK SAVINGS", "TRANSFER FROM ALLY BANK SAVINGS"},
		{"MARCUS SAVINGS DES:TRANSFER", "MARCUS SAVINGS DES:WITHDRAWAL"},
		{"CAPITAL ONE 360 TRANSFER", "CAPITAL ONE 360 DEPOSIT"},
		{"DISCOVER BANK SAVINGS XFER", "DISCOVER BANK XFER FROM SAV"},
	}
	interestTemplates = []string{"INTEREST PAYMENT", "INTEREST EARNED", "Interest Paid"}
)

// expand replaces every {NAME} placeholder of tmpl for which fill returns ok.
func expand(tmpl string, fill func(name string) (string, bool)) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		name := tmpl[i+1 : i+j]
		b.WriteString(tmpl[:i])
		if v, ok := fill(name); ok {
			b.WriteString(v)
		} else {
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
}

// payee is one counterparty's description pattern: the template with its fixed
// placeholders filled.
type payee struct {
	template, pattern string
}

// newPayee fills the fixed placeholders of tmpl. vars holds the values shared by every
// payee of one applicant (the employer, the holder's name…); a missing one is drawn.
func newPayee(r *rng, tmpl string, vars map[string]string) payee {
	p := expand(tmpl, func(name string) (string, bool) {
		if !fixedPlaceholders[name] {
			return "", false
		}
		if v, ok := vars[name]; ok {
			return v, true
		}
		v := fixedValue(r, name)
		vars[name] = v
		return v, true
	})
	return payee{template: tmpl, pattern: p}
}

func fixedValue(r *rng, name string) string {
	switch name {
	case "EMP":
		return pick(r, employers)
	case "NAME":
		return pick(r, holderNames)
	case "ST":
		return pick(r, states)
	case "LENDER":
		return pick(r, lenders)
	case "LANDLORD":
		return pick(r, landlords)
	case "ID4", "ACCT4":
		return r.chars(digitChars, 4)
	case "ID6":
		return r.chars(digitChars, 6)
	case "ID9":
		return r.chars(digitChars, 9)
	default: // ID10
		return r.chars(digitChars, 10)
	}
}

// describe writes one transaction's description from p on day.
func (p payee) describe(r *rng, day time.Time) string {
	return expand(p.pattern, func(name string) (string, bool) {
		switch name {
		case "REF":
			return r.chars(alnumChars, 10), true
		case "DATE":
			return day.Format("0102"), true
		case "N4":
			return r.chars(digitChars, 4), true
		case "PERSON":
			return pick(r, people), true
		case "WORD":
			return r.chars(alnumChars[:26], 6), true
		}
		return "", false
	})
}
