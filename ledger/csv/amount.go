package csv

import (
	"errors"
	"math"
	"strings"

	"github.com/cashflow-underwriting/underwriter/ledger"
)

// zeroDecimal lists Stripe's zero-decimal currencies: their minor unit is the major
// unit, so "1500" JPY is 1500 minor units, not 150000.
var zeroDecimal = map[string]bool{
	"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true, "krw": true,
	"mga": true, "pyg": true, "rwf": true, "ugx": true, "vnd": true, "vuv": true, "xaf": true,
	"xof": true, "xpf": true,
}

// MinorDigits returns the number of decimal digits of currency's minor unit as Stripe
// counts them: 0 for zero-decimal currencies, otherwise 2.
func MinorDigits(currency string) int {
	if zeroDecimal[strings.ToLower(currency)] {
		return 0
	}
	return 2
}

// ParseMinor parses a decimal amount such as "-1234.5", "+12", "(45.10)" (accounting
// negative) or "1 234.50" into minor units with the given number of decimal digits.
// A decimal point is '.'; spaces, '_' and "'" inside the number are digit-group
// separators and ignored. More decimals than digits are accepted only when the extra
// ones are zeros; beyond ±ledger.MaxAmountMinor, which a ledger file cannot hold, is too
// large. The error text completes `"<value>" …`.
func ParseMinor(s string, digits int) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("is empty")
	}
	neg := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, strings.TrimSpace(s[1:len(s)-1])
	}
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = !neg, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '_' || r == '\'' || r == '\u00a0' {
			return -1
		}
		return r
	}, s)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, errors.New("is not a number")
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, errors.New("is not a number")
			}
		}
	}
	if len(frac) > digits {
		if strings.Trim(frac[digits:], "0") != "" {
			return 0, errors.New("has more decimals than the currency's minor unit")
		}
		frac = frac[:digits]
	}
	frac += strings.Repeat("0", digits-len(frac))
	var v int64
	for _, c := range whole + frac {
		d := int64(c - '0')
		if v > (math.MaxInt64-d)/10 {
			return 0, errors.New("is too large")
		}
		v = v*10 + d
	}
	if v > ledger.MaxAmountMinor { // a ledger file cannot hold it
		return 0, errors.New("is too large")
	}
	if neg {
		v = -v
	}
	return v, nil
}
