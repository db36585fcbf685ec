// Package hmactoken signs and checks the short-lived session tokens of the harness's
// browser-facing endpoints (the payload codec's login cookie, the decision card's): an
// expiry and a random nonce under an HMAC-SHA256, so that the endpoint keeps no session
// state and a token it did not sign, or one past its expiry, is refused.
package hmactoken

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Why a token was refused.
var (
	ErrMalformed = errors.New("malformed token")
	ErrForged    = errors.New("token not signed with this key")
	ErrExpired   = errors.New("token expired")
)

// Signer issues and verifies tokens under Key. Purpose is mixed into the MAC, so a token
// one endpoint issued never passes another's check even under the same key.
type Signer struct {
	Key     []byte
	Purpose string
}

// Issue returns a token valid until exp: "v1.<expiry unix>.<nonce>.<HMAC-SHA256 of the
// rest>", URL-safe, with no padding.
func (s Signer) Issue(exp time.Time) string {
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce) // the nonce only makes tokens distinct; crypto/rand does not fail
	body := "v1." + strconv.FormatInt(exp.Unix(), 10) + "." + base64.RawURLEncoding.EncodeToString(nonce)
	return body + "." + s.mac(body)
}

// Verify accepts a token s issued that has not expired at now: ErrMalformed,
// ErrForged or ErrExpired otherwise. The signature is checked before anything in the
// token is believed.
func (s Signer) Verify(tok string, now time.Time) error {
	i := strings.LastIndex(tok, ".")
	if i < 0 {
		return ErrMalformed
	}
	body, sig := tok[:i], tok[i+1:]
	if !hmac.Equal([]byte(sig), []byte(s.mac(body))) {
		return ErrForged
	}
	parts := strings.Split(body, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return ErrMalformed
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return ErrMalformed
	}
	if !now.Before(time.Unix(exp, 0)) {
		return ErrExpired
	}
	return nil
}

func (s Signer) mac(body string) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte(s.Purpose + "|" + body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
