package alerthook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Header names and the body's type.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>".
	SignatureHeader = "Underwriter-Signature"
	// DeliveryHeader carries the alert's id, the same on every retry.
	DeliveryHeader = "Underwriter-Delivery"
	// BodyType is Body.Type.
	BodyType = "loan.alert"
)

// EnvSigningKey names the environment variable holding the master key (64 hex digits) from
// which every lender's secret is derived.
const EnvSigningKey = "UNDERWRITER_ALERT_SIGNING_KEY"

// DefaultTolerance is how far a signature's timestamp may be from the receiver's clock:
// Stripe's own default, five minutes, enough for clock skew and a slow network, short
// enough that a captured request cannot be replayed much later.
const DefaultTolerance = 5 * time.Minute

// DeliverTimeout bounds one delivery when Deliver is given no client: a lender's endpoint
// that takes longer is retried later rather than holding the activity.
const DeliverTimeout = 30 * time.Second

// secretPrefix marks a lender's alert signing secret, so that one found in a file or a
// paste is recognised (and told apart from Stripe's whsec_).
const secretPrefix = "uwasec_"

// derivationLabel separates a lender secret's HMAC input from any other use of the key.
const derivationLabel = "alert-webhook/"

// maxResponse is how much of a lender's answer is read (and thrown away) so that the
// connection can be reused; the answer's content is never kept.
const maxResponse = 64 << 10

// Why a signature was refused, and why a delivery cannot be made at all. Verify's and
// Deliver's errors wrap one of these.
var (
	ErrNoSignature       = errors.New("no " + SignatureHeader + " header")
	ErrMalformed         = errors.New(SignatureHeader + " header is not t=<unix seconds>,v1=<hex>")
	ErrTimestamp         = errors.New("signature timestamp outside the tolerance")
	ErrSignatureMismatch = errors.New("no v1 signature matches the body under this secret")
	// ErrBadURL: the lender's URL cannot receive alerts; retrying does not help.
	ErrBadURL = errors.New("alert webhook URL refused")
	// ErrNoSecret: there is nothing to sign with; retrying does not help.
	ErrNoSecret = errors.New("no alert signing secret")
)

// ParseSigningKey decodes the master key: 64 hex digits, 32 bytes. Its errors never
// contain the key.
func ParseSigningKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("not set (64 hex digits; `underwriter alerts generate-key` makes one)")
	}
	k, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex (64 hex digits, 32 bytes; %d characters given)", len(s))
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("%d bytes, want 32 (64 hex digits)", len(k))
	}
	return k, nil
}

// GenerateSigningKey returns a new random master key as 64 hex digits.
func GenerateSigningKey() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand does not fail
	return hex.EncodeToString(k)
}

// LenderSecret returns the lender's alert signing secret:
//
//	"uwasec_" + hex(HMAC-SHA256(master, "alert-webhook/" + lender))
//
// Deriving it means no secret is stored anywhere but in the master key: a copy of the
// database cannot sign alerts, and one lender's secret tells nothing of another's. The
// whole string, prefix included, is the HMAC key Sign and Verify use. It panics on an
// empty master key, a programmer error (ParseSigningKey refuses one).
func LenderSecret(master []byte, lender string) string {
	if len(master) == 0 {
		panic("alerthook: LenderSecret with an empty master key")
	}
	m := hmac.New(sha256.New, master)
	m.Write([]byte(derivationLabel + lender))
	return secretPrefix + hex.EncodeToString(m.Sum(nil))
}

// Sign returns the SignatureHeader value of body sent at t under secret:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks that header (the SignatureHeader value) signs body under secret, with a
// timestamp within tolerance of now (DefaultTolerance when tolerance <= 0), either side.
// Several v1 entries are accepted, any one matching, so a sender may sign with two
// secrets while a lender rotates. The comparison is constant-time. The error wraps
// ErrNoSignature, ErrMalformed, ErrTimestamp or ErrSignatureMismatch, and never contains
// the secret or the expected signature.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if strings.TrimSpace(header) == "" {
		return ErrNoSignature
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: %q has no =", ErrMalformed, part)
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return fmt.Errorf("%w: a v1 is not 64 hex digits", ErrMalformed)
			}
			sigs = append(sigs, sig)
		}
		// Other schemes (a future v2) are ignored, as Stripe's receivers do.
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: no unix timestamp t", ErrMalformed)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%w: no v1 signature", ErrMalformed)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %s, %s from now (tolerance %s)", ErrTimestamp,
			time.Unix(sec, 0).UTC().Format(time.RFC3339), d.Round(time.Second), tolerance)
	}
	want := mac(secret, ts, body)
	ok := false
	for _, sig := range sigs {
		// Every entry is compared, so the time taken says nothing of which matched.
		if hmac.Equal(sig, want) {
			ok = true
		}
	}
	if !ok {
		return ErrSignatureMismatch
	}
	return nil
}

// Body is the JSON a lender receives for one alert.
type Body struct {
	// ID is the alert's id (also DeliveryHeader): receivers de-duplicate by it.
	ID string `json:"id"`
	// Type is BodyType.
	Type string `json:"type"`
	// Created is when the alert was stored.
	Created time.Time `json:"created"`
	// Lender is the lender's id; LoanID the lender's own application id of the loan
	// (POST /v1/loans's application_id, the {id} of /v1/loans/{id}).
	Lender string `json:"lender"`
	LoanID string `json:"loan_id"`
	Event  Event  `json:"event"`
	// Rescore is the check's re-scored PD (model and policy of the decision and the
	// current default ones, with the PD's change since origination); omitted when none.
	Rescore json.RawMessage `json:"rescore,omitempty"`
	// MonitoringPolicyVersion is the version of the thresholds that raised the event.
	MonitoringPolicyVersion string `json:"monitoring_policy_version"`
	// LedgerAsOf is the ledger clock (the balances' as_of) of the check.
	LedgerAsOf time.Time `json:"ledger_as_of"`
}

// Event is the early-warning event of a Body (docs/monitoring.md lists the types).
type Event struct {
	Type string `json:"type"`
	// Key is the event's type and evidence, unique per loan.
	Key string `json:"key"`
	// Date is the UTC day of the cause, YYYY-MM-DD.
	Date string `json:"date"`
	// Text says what happened in plain language; it quotes no transaction description.
	Text string `json:"text"`
	// Evidence lists the transactions, balances, dates or estimates the event rests on.
	Evidence json.RawMessage `json:"evidence"`
	// Hint is what the lender can do (ACCOUNT_DISCONNECTED: have the borrower relink).
	Hint string `json:"hint,omitempty"`
}

// CheckURL refuses a URL that cannot receive alerts, wrapping ErrBadURL: anything but an
// absolute http or https URL with a host, a URL with a user or password in it (a
// credential would reach logs and Postgres), and plain http to anything but a loopback
// host (localhost, 127.0.0.0/8, ::1), where the body and the signature would travel in
// the clear. The error names the problem, never the URL's query.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%w: not an absolute http(s) URL such as https://lender.example/alerts", ErrBadURL)
	}
	if u.User != nil {
		return fmt.Errorf("%w: it holds a user or password; put credentials nowhere in the URL", ErrBadURL)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return fmt.Errorf("%w: http is allowed for a loopback host only (localhost, 127.0.0.1, ::1); use https for %s",
			ErrBadURL, u.Hostname())
	}
	return nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// StatusError is Deliver's error when the lender's endpoint answered, but not 2xx.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("lender's alert endpoint answered HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// Deliver POSTs body to rawURL signed under secret, now, with DeliveryHeader body.ID. A 2xx
// answer returns nil. Otherwise the error is a *StatusError (any other status, redirects
// included: a signed alert is never re-sent elsewhere), a network error naming the host
// but not the rest of the URL, or, when there is no point retrying, an error wrapping
// ErrBadURL or ErrNoSecret. client nil means a client with DeliverTimeout; a given client's
// redirects are not followed either. Neither the secret nor the body reaches an error.
func Deliver(ctx context.Context, client *http.Client, rawURL, secret string, body Body) error {
	if err := CheckURL(rawURL); err != nil {
		return err
	}
	if secret == "" {
		return ErrNoSecret
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode alert %s: %w", body.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(DeliveryHeader, body.ID)
	req.Header.Set(SignatureHeader, Sign(secret, time.Now(), raw))
	c := http.Client{Timeout: DeliverTimeout}
	if client != nil {
		c = *client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its message repeats the whole URL
		}
		return fmt.Errorf("post alert %s to %s: %w", body.ID, req.URL.Host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post alert %s to %s: %w", body.ID, req.URL.Host, &StatusError{StatusCode: resp.StatusCode})
	}
	return nil
}
