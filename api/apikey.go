package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
)

// A lender's API key is "uwk_" + a 16-hex-digit id + "_" + 64 hex digits of secret (256
// random bits). The id is public: it names the key in `underwriter keys list`, the logs
// and `keys revoke`, and finds the key's row. The whole key is secret: it is shown once,
// at creation, and stored only as its SHA-256 (a key carries 256 random bits, so a fast
// hash is enough: there is nothing to guess), compared in constant time.

// KeyPrefix starts every API key, so a leaked key is recognisable (secret scanners, logs).
const KeyPrefix = "uwk_"

// ErrMalformedKey is returned (wrapped) by ParseKey for a string that cannot be a key.
var ErrMalformedKey = errors.New("not an underwriter API key")

var keyPattern = regexp.MustCompile(`^uwk_([0-9a-f]{16})_([0-9a-f]{64})$`)

// Key is a newly made API key.
type Key struct {
	// ID is the public part, e.g. for `underwriter keys revoke`.
	ID string
	// Secret is the whole key, to hand to the lender once.
	Secret string
	// Hash is what Postgres keeps (store.InsertAPIKey).
	Hash []byte
}

// NewKey makes a key from 64 bits of random id and 256 bits of random secret.
func NewKey() (Key, error) {
	var id [8]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Key{}, fmt.Errorf("make api key: %w", err)
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return Key{}, fmt.Errorf("make api key: %w", err)
	}
	k := Key{ID: hex.EncodeToString(id[:])}
	k.Secret = KeyPrefix + k.ID + "_" + hex.EncodeToString(secret[:])
	k.Hash = HashKey(k.Secret)
	return k, nil
}

// ParseKey returns the id of key, or an error wrapping ErrMalformedKey. It never echoes
// the key.
func ParseKey(key string) (string, error) {
	m := keyPattern.FindStringSubmatch(key)
	if m == nil {
		return "", fmt.Errorf("api key: %w (uwk_ followed by 16 and 64 hex digits)", ErrMalformedKey)
	}
	return m[1], nil
}

// HashKey is the SHA-256 of the whole key.
func HashKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// keyMatches reports, in time independent of where they differ, whether key hashes to
// stored.
func keyMatches(key string, stored []byte) bool {
	return subtle.ConstantTimeCompare(HashKey(key), stored) == 1
}
