// Package apikey defines underwriter's lender API keys and lender ids: how a key is made,
// what it looks like, and the hash that is all Postgres keeps of it.
//
// A key is "uwk_" + a 16-hex-digit id + "_" + 64 hex digits of secret (256 random bits).
// The id is public: it names the key in `underwriter keys list` and logs, and finds the
// key's row. The whole key is secret: it is shown once, at creation, and stored only as its
// SHA-256, compared in constant time.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Prefix starts every key, so a leaked key is recognisable (secret scanners, logs).
const Prefix = "uwk_"

// DevLender is the lender of applications created before lenders existed and of workflows
// started with the Temporal client without a lender (migration 010).
const DevLender = "dev"

// ErrMalformed is returned (wrapped) by Parse for a string that cannot be a key.
var ErrMalformed = errors.New("not an underwriter API key")

var (
	keyPattern    = regexp.MustCompile(`^uwk_([0-9a-f]{16})_([0-9a-f]{64})$`)
	lenderPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
)

// Key is a newly made API key.
type Key struct {
	// ID is the public part, e.g. for `underwriter keys revoke`.
	ID string
	// Secret is the whole key, to hand to the lender once.
	Secret string
	// Hash is what Postgres keeps.
	Hash []byte
}

// New makes a key from 64 bits of random id and 256 bits of random secret.
func New() (Key, error) {
	var id [8]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Key{}, fmt.Errorf("make api key: %w", err)
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return Key{}, fmt.Errorf("make api key: %w", err)
	}
	k := Key{ID: hex.EncodeToString(id[:])}
	k.Secret = Prefix + k.ID + "_" + hex.EncodeToString(secret[:])
	k.Hash = Hash(k.Secret)
	return k, nil
}

// Parse returns the id of key, or an error wrapping ErrMalformed. It never echoes the key.
func Parse(key string) (string, error) {
	m := keyPattern.FindStringSubmatch(key)
	if m == nil {
		return "", fmt.Errorf("api key: %w (uwk_ followed by 16 and 64 hex digits)", ErrMalformed)
	}
	return m[1], nil
}

// Hash is the SHA-256 of the whole key.
func Hash(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// Matches reports, in time independent of where they differ, whether key hashes to stored.
func Matches(key string, stored []byte) bool {
	return subtle.ConstantTimeCompare(Hash(key), stored) == 1
}

// CheckLender returns an error naming the problem when id cannot be a lender id: 1 to 32
// lowercase letters, digits and hyphens, starting with a letter or digit. Lender ids appear
// in workflow ids (underwrite/<lender>/<application>), so they hold no slash.
func CheckLender(id string) error {
	if !lenderPattern.MatchString(id) {
		return fmt.Errorf("lender %q: must be 1-32 lowercase letters, digits or '-', starting with a letter or digit", id)
	}
	return nil
}

// ApplicationKey is the primary key of a lender's application in Postgres, and the
// application id the workflow knows: "<lender>/<external id>".
func ApplicationKey(lender, externalID string) string {
	return lender + "/" + externalID
}

// SplitApplicationKey undoes ApplicationKey. A key without a slash is an application
// created before lenders existed: the development lender's.
func SplitApplicationKey(key string) (lender, externalID string) {
	if l, ext, ok := strings.Cut(key, "/"); ok {
		return l, ext
	}
	return DevLender, key
}
