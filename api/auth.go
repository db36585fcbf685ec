package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// KeyLookup finds the lenders' API keys; *store.Store is one.
type KeyLookup interface {
	// ActiveAPIKey returns the lender and hash of the unrevoked key with the public id,
	// or an error wrapping store.ErrNotFound.
	ActiveAPIKey(ctx context.Context, id string) (lenderID string, hash []byte, err error)
	// TouchAPIKey records that the key was used.
	TouchAPIKey(ctx context.Context, id string) error
}

func (s *Server) keys() KeyLookup {
	if s.Keys != nil {
		return s.Keys
	}
	return s.Store
}

// lenderKey is the context key of the authenticated lender's id.
type lenderKey struct{}

// lenderOf returns the lender the request authenticated as.
func lenderOf(ctx context.Context) string {
	id, _ := ctx.Value(lenderKey{}).(string)
	return id
}

// dummyHash is compared against when a key's id is unknown, so that an unknown id and a
// wrong secret take the same time.
var dummyHash = HashKey("uwk_0000000000000000_" + strings.Repeat("0", 64))

// authenticated serves h only to a request with an active lender API key in
// `Authorization: Bearer`, with the lender in the request's context, and, when
// RequireClientCert is set, over a TLS connection whose client certificate verified. Anything else is a
// 401 with a WWW-Authenticate challenge and says only what is wrong with the header:
// whether a well-formed key is unknown, revoked or wrong is not told apart.
func (s *Server) authenticated(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if s.RequireClientCert && (r.TLS == nil || len(r.TLS.VerifiedChains) == 0) {
			s.unauthorized(w, "client_certificate_required",
				"TLS: this route needs a client certificate signed by the API's client CA (mTLS)")
			return
		}
		scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		switch {
		case r.Header.Get("Authorization") == "":
			s.unauthorized(w, "missing_api_key", "Authorization: send the lender's API key as `Authorization: Bearer uwk_…`")
			return
		case !ok || !strings.EqualFold(scheme, "Bearer"):
			s.unauthorized(w, "invalid_api_key", "Authorization: not a Bearer token")
			return
		}
		id, err := ParseKey(strings.TrimSpace(key))
		if err != nil {
			s.unauthorized(w, "invalid_api_key", "Authorization: not an underwriter API key (uwk_…)")
			return
		}
		lender, hash, err := s.keys().ActiveAPIKey(ctx, id)
		if err != nil && !isNotFound(err) {
			s.log().ErrorContext(ctx, "look up api key", "api_key_id", id, "err", err)
			writeError(w, http.StatusServiceUnavailable, "auth_unavailable", "could not check the API key; retry", nil)
			return
		}
		if err != nil {
			hash = dummyHash
		}
		if !keyMatches(strings.TrimSpace(key), hash) || err != nil {
			s.log().WarnContext(ctx, "api key refused", "api_key_id", id)
			s.unauthorized(w, "invalid_api_key", "Authorization: the API key is unknown or revoked")
			return
		}
		if err := s.keys().TouchAPIKey(ctx, id); err != nil {
			s.log().WarnContext(ctx, "record api key use", "api_key_id", id, "err", err)
		}
		h(w, r.WithContext(context.WithValue(ctx, lenderKey{}, lender)))
	}
}

func (s *Server) unauthorized(w http.ResponseWriter, code, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="underwriter"`)
	writeError(w, http.StatusUnauthorized, code, msg, nil)
}

// requestHash identifies a request's content under the first of the server's request-hash
// keys: an HMAC-SHA256, so that the stored value confirms no guessed applicant name or
// email to whoever reads the table without the key. The same application id with another
// body is a conflict, not a retry.
func (s *Server) requestHash(req ApplicationRequest) string {
	return requestHashWith(s.RequestHashKeys[0], req)
}

// requestHashPrefix marks the HMAC hashes; an application stored before them holds a bare
// sha256 in hex.
const requestHashPrefix = "hmac-sha256:"

func requestHashWith(key []byte, req ApplicationRequest) string {
	b, _ := json.Marshal(req) // a struct of strings and numbers always encodes
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return requestHashPrefix + hex.EncodeToString(m.Sum(nil))
}

// sameRequest reports whether stored is the hash of req under any of the server's keys
// (one being rotated out included), or the bare sha256 an application stored before
// request hashes were keyed holds.
func (s *Server) sameRequest(stored string, req ApplicationRequest) bool {
	for _, k := range s.RequestHashKeys {
		if hmac.Equal([]byte(stored), []byte(requestHashWith(k, req))) {
			return true
		}
	}
	if strings.HasPrefix(stored, requestHashPrefix) {
		return false
	}
	b, _ := json.Marshal(req)
	sum := sha256.Sum256(b)
	return hmac.Equal([]byte(stored), []byte(hex.EncodeToString(sum[:])))
}
