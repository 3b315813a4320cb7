package notifier

import (
	"errors"
	"strings"
	"testing"
)

func TestSignAndVerify(t *testing.T) {
	pub, priv, err := GenerateKey("scheduling-1")
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := GenerateKey("scheduling-1")
	signed, err := SignEvent([]byte(goodEvent), priv)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := DecodeEvent(signed, "ukd")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ev.Sig, "ed25519:scheduling-1:") {
		t.Fatalf("sig %q", ev.Sig)
	}
	t.Run("verifies", func(t *testing.T) {
		if id, err := VerifyEvent(signed, ev.Sig, []PublicKey{pub}); err != nil || id != "scheduling-1" {
			t.Errorf("VerifyEvent = %q, %v", id, err)
		}
	})
	t.Run("member order and whitespace do not matter", func(t *testing.T) {
		reordered := `{"sig":"` + ev.Sig + `", "type":"outage.declared", "time":"2020-09-10T06:00:00Z",
			"data":{"until":"2020-09-17T00:00:00+02:00","outage_id":"ukd-it-2020-09","kinds":["outpatient","elective"],
			        "info_url":"https://example.org/outage","hotline":"+49 211 81-04444","from":"2020-09-10T00:00:00+02:00",
			        "facility":"ukd","departments":["*"],"action":"postpone"},
			"source":"/scheduling/ukd", "specversion":"1.0", "id":"evt-0001", "datacontenttype":"application/json"}`
		if _, err := VerifyEvent([]byte(reordered), ev.Sig, []PublicKey{pub}); err != nil {
			t.Errorf("the same event written otherwise does not verify: %v", err)
		}
	})
	refused := map[string]struct {
		raw  string
		sig  string
		keys []PublicKey
		want string
	}{
		"missing":         {goodEvent, "", []PublicKey{pub}, "missing"},
		"altered window":  {strings.Replace(string(signed), "2020-09-17", "2020-12-17", 1), ev.Sig, []PublicKey{pub}, "does not match"},
		"another key":     {string(signed), ev.Sig, []PublicKey{other}, "does not match"},
		"unknown key id":  {string(signed), strings.Replace(ev.Sig, "scheduling-1", "someone", 1), []PublicKey{pub}, "not trusted"},
		"malformed":       {string(signed), "rsa:x:y", []PublicKey{pub}, "malformed"},
		"bad base64":      {string(signed), "ed25519:scheduling-1:!!!", []PublicKey{pub}, "malformed"},
		"no trusted keys": {string(signed), ev.Sig, nil, "not trusted"},
	}
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := VerifyEvent([]byte(tc.raw), tc.sig, tc.keys)
			if !errors.Is(err, ErrSignature) || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a signature error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestKeysRoundTrip(t *testing.T) {
	pub, priv, _ := GenerateKey("k-1")
	p2, err := ParsePublicKey(pub.String())
	if err != nil || !p2.Key.Equal(pub.Key) || p2.ID != "k-1" {
		t.Errorf("public key: %v %v", p2, err)
	}
	k2, err := ParsePrivateKey(priv.String() + "\n")
	if err != nil || !k2.Key.Equal(priv.Key) {
		t.Errorf("private key: %v", err)
	}
	if _, err := ParsePublicKey(priv.String()); err == nil {
		t.Error("a private key was read as a public one")
	}
	if _, _, err := GenerateKey("bad id"); err == nil {
		t.Error("a key id with a space was accepted")
	}
}
