// Package codec keeps workflow payloads private: an AES-256-GCM converter.PayloadCodec
// with keys named by key id, and the HTTP endpoint (Temporal's remote codec protocol)
// through which an operator's Web UI decodes them. Only cmd/underwriter and
// internal/wiring use it.
//
// An encoded payload carries metadata encoding=binary/encrypted and encryption-key-id, and
// as data a random 12-byte nonce followed by the AES-GCM sealing of the original payload
// (its metadata and data, proto-marshalled). The key id is the sealing's additional data,
// so a payload relabelled with another key id does not open.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload.
const (
	// MetadataEncoding is the value of the payload's "encoding" metadata.
	MetadataEncoding = "binary/encrypted"
	// MetadataKeyID names the metadata entry holding the key id.
	MetadataKeyID = "encryption-key-id"
)

// EnvKeys is the environment variable holding the keys: "id:hex,id:hex", the first
// encrypts, every one decrypts.
const EnvKeys = "UNDERWRITER_PAYLOAD_KEYS"

// nonceSize is AES-GCM's standard nonce; random nonces of 96 bits stay safe for far more
// payloads than one key will ever seal (NIST SP 800-38D, 2^32 invocations).
const nonceSize = 12

// keySize is AES-256.
const keySize = 32

// Codec encrypts payloads with its first key and decrypts with any of its keys. It
// implements converter.PayloadCodec and is safe for concurrent use.
type Codec struct {
	encryptID string
	keys      map[string]cipher.AEAD
	ids       []string
}

var _ converter.PayloadCodec = (*Codec)(nil)

// Key is one key and its id.
type Key struct {
	ID  string
	Key []byte
}

// New returns a codec that encrypts with keys[0] and decrypts with any of keys. Each key
// must be 32 bytes and each id distinct, non-empty and free of ',' and ':'.
func New(keys ...Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("no keys")
	}
	c := &Codec{encryptID: keys[0].ID, keys: map[string]cipher.AEAD{}}
	for i, k := range keys {
		if err := checkID(k.ID); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		if _, dup := c.keys[k.ID]; dup {
			return nil, fmt.Errorf("key id %q: given twice", k.ID)
		}
		if len(k.Key) != keySize {
			return nil, fmt.Errorf("key id %q: %d bytes, not 32 (AES-256)", k.ID, len(k.Key))
		}
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			return nil, fmt.Errorf("key id %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key id %q: %w", k.ID, err)
		}
		c.keys[k.ID] = aead
		c.ids = append(c.ids, k.ID)
	}
	return c, nil
}

func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("empty key id")
	case strings.ContainsAny(id, ",: \t\n"):
		return fmt.Errorf("key id %q: holds a separator or a space", id)
	}
	return nil
}

// ParseKeys reads "k2:<64 hex>,k1:<64 hex>" (the EnvKeys format). Its errors name the key
// id and the problem, never a key.
func ParseKeys(s string) (*Codec, error) {
	var keys []Key
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("entry %d: empty (want id:<64 hex digits>)", i+1)
		}
		id, hexKey, ok := strings.Cut(part, ":")
		id = strings.TrimSpace(id)
		if !ok {
			return nil, fmt.Errorf("entry %d: no ':' between key id and key (want id:<64 hex digits>)", i+1)
		}
		if err := checkID(id); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		k, err := hex.DecodeString(strings.TrimSpace(hexKey))
		if err != nil {
			return nil, fmt.Errorf("key id %q: the key is not hex", id)
		}
		if len(k) != keySize {
			return nil, fmt.Errorf("key id %q: the key is %d bytes, not 32 (64 hex digits)", id, len(k))
		}
		keys = append(keys, Key{ID: id, Key: k})
	}
	return New(keys...)
}

// GenerateKey returns a random 32-byte key as 64 hex digits.
func GenerateKey() string {
	b := make([]byte, keySize)
	if _, err := rand.Read(b); err != nil {
		panic("codec: crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// EncryptKeyID is the id of the key new payloads are encrypted with.
func (c *Codec) EncryptKeyID() string { return c.encryptID }

// KeyIDs are the ids of every key, the encrypting one first.
func (c *Codec) KeyIDs() []string { return append([]string(nil), c.ids...) }

// DataConverter is Temporal's default data converter with payloads passed through c.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// Encode encrypts every payload with the encrypting key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.keys[c.encryptID]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("encrypt payload: marshal: %w", err)
		}
		nonce := make([]byte, nonceSize, nonceSize+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("encrypt payload: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(MetadataEncoding),
				MetadataKeyID:              []byte(c.encryptID),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(c.encryptID)),
		}
	}
	return out, nil
}

// Decode decrypts encrypted payloads and passes every other payload through unchanged,
// so histories written before encryption was turned on still read and replay. A payload
// whose key id is not configured, or whose ciphertext does not open, is an error naming
// the key id.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != MetadataEncoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.keys[id]
		if !ok {
			return payloads, fmt.Errorf("decrypt payload: key id %q is not configured (%s holds %s)", id, EnvKeys, strings.Join(c.ids, ", "))
		}
		data := p.GetData()
		if len(data) < nonceSize {
			return payloads, fmt.Errorf("decrypt payload with key id %q: %d bytes, shorter than a nonce", id, len(data))
		}
		plain, err := aead.Open(nil, data[:nonceSize], data[nonceSize:], []byte(id))
		if err != nil {
			return payloads, fmt.Errorf("decrypt payload with key id %q: the ciphertext does not authenticate (tampered, or another key under this id)", id)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return payloads, fmt.Errorf("decrypt payload with key id %q: unmarshal: %w", id, err)
		}
		out[i] = &orig
	}
	return out, nil
}
