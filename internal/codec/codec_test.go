package codec

import (
	"bytes"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

func mustParse(t *testing.T, s string) *Codec {
	t.Helper()
	c, err := ParseKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type input struct {
	ApplicationID string
	Amount        int64
}

func TestRoundTripHidesPlaintext(t *testing.T) {
	c := mustParse(t, "k1:"+GenerateKey())
	dc := c.DataConverter()
	p, err := dc.ToPayload(input{ApplicationID: "app_secret_123", Amount: 500000})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.Metadata[converter.MetadataEncoding]); got != MetadataEncoding {
		t.Fatalf("encoding %q, want %q", got, MetadataEncoding)
	}
	if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
		t.Fatalf("key id %q, want k1", got)
	}
	if bytes.Contains(p.Data, []byte("app_secret_123")) {
		t.Fatal("ciphertext holds the application id")
	}
	var back input
	if err := dc.FromPayload(p, &back); err != nil {
		t.Fatal(err)
	}
	if back != (input{ApplicationID: "app_secret_123", Amount: 500000}) {
		t.Fatalf("round trip gave %+v", back)
	}
	// A fresh nonce per payload: the same value never encrypts to the same bytes.
	p2, _ := dc.ToPayload(input{ApplicationID: "app_secret_123", Amount: 500000})
	if bytes.Equal(p.Data, p2.Data) {
		t.Fatal("two encryptions of one value are equal")
	}
}

func TestRotation(t *testing.T) {
	k1, k2 := GenerateKey(), GenerateKey()
	old := mustParse(t, "k1:"+k1)
	rotated := mustParse(t, "k2:"+k2+", k1:"+k1)
	p, err := old.DataConverter().ToPayload("written before rotation")
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := rotated.DataConverter().FromPayload(p, &s); err != nil || s != "written before rotation" {
		t.Fatalf("old payload after rotation: %q, %v", s, err)
	}
	p, _ = rotated.DataConverter().ToPayload("after")
	if got := string(p.Metadata[MetadataKeyID]); got != "k2" {
		t.Fatalf("rotated codec encrypts with %q, want k2", got)
	}
	// The old configuration cannot read the new payload, and says which key it lacks.
	err = old.DataConverter().FromPayload(p, &s)
	if err == nil || !strings.Contains(err.Error(), `"k2"`) {
		t.Fatalf("missing key: error %v, want one naming k2", err)
	}
}

func TestPlainPayloadsPassThrough(t *testing.T) {
	c := mustParse(t, "k1:"+GenerateKey())
	plain, _ := converter.GetDefaultDataConverter().ToPayload(input{ApplicationID: "a1"})
	out, err := c.Decode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != plain {
		t.Fatal("a plain payload was changed")
	}
	var back input
	if err := c.DataConverter().FromPayload(plain, &back); err != nil || back.ApplicationID != "a1" {
		t.Fatalf("plain payload through the codec converter: %+v, %v", back, err)
	}
}

func TestTamperedRefused(t *testing.T) {
	c := mustParse(t, "k1:"+GenerateKey()+",k0:"+GenerateKey())
	enc, err := c.Encode([]*commonpb.Payload{{Data: []byte(`"x"`)}})
	if err != nil {
		t.Fatal(err)
	}
	flipped := &commonpb.Payload{Metadata: enc[0].Metadata, Data: append([]byte(nil), enc[0].Data...)}
	flipped.Data[len(flipped.Data)-1] ^= 1
	if _, err := c.Decode([]*commonpb.Payload{flipped}); err == nil || !strings.Contains(err.Error(), "k1") {
		t.Fatalf("tampered ciphertext: %v, want an error naming k1", err)
	}
	// Relabelled with another configured key id: the key id is authenticated data.
	relabelled := &commonpb.Payload{Metadata: map[string][]byte{
		converter.MetadataEncoding: []byte(MetadataEncoding), MetadataKeyID: []byte("k0"),
	}, Data: enc[0].Data}
	if _, err := c.Decode([]*commonpb.Payload{relabelled}); err == nil {
		t.Fatal("relabelled payload decoded")
	}
}

func TestParseKeysErrors(t *testing.T) {
	secret := strings.Repeat("ab", 32)
	for _, tc := range []struct{ in, want string }{
		{"", "entry 1: empty"},
		{"k1" + secret, "no ':'"},
		{":" + secret, "empty key id"},
		{"k1:zz" + secret[2:], `key id "k1": the key is not hex`},
		{"k1:abcd", `key id "k1": the key is 2 bytes, not 32`},
		{"k1:" + secret + ",k1:" + secret, `key id "k1": given twice`},
	} {
		_, err := ParseKeys(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseKeys(%q): %v, want %q", tc.in, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), secret[:16]) {
			t.Errorf("ParseKeys(%q): the error shows the key: %v", tc.in, err)
		}
	}
}
