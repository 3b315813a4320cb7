package notifier

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Signed outage events carry the CloudEvents extension attribute
//
//	"sig": "ed25519:<key-id>:<base64 signature>"
//
// an Ed25519 signature over the event's canonical form: the event's JSON
// with the "sig" member removed, every object's members sorted by name,
// no whitespace between tokens, numbers as written, and strings escaped as
// JSON requires and no further (no HTML escaping). Any publisher can make
// it; `notifier publish --sign-key` does.

// ErrSignature marks an event refused for its signature: missing when one
// is required, malformed, from an unknown key, or not matching.
var ErrSignature = errors.New("signature")

// Key prefixes of the key files `notifier keygen` writes.
const (
	publicKeyPrefix  = "ed25519:"
	privateKeyPrefix = "ed25519-private:"
)

// PublicKey is a trusted key: its id and the key itself.
type PublicKey struct {
	ID  string
	Key ed25519.PublicKey
}

// PrivateKey is a signing key with its id.
type PrivateKey struct {
	ID  string
	Key ed25519.PrivateKey
}

// GenerateKey makes a new key pair with the given id.
func GenerateKey(id string) (PublicKey, PrivateKey, error) {
	if !ValidID(id) {
		return PublicKey{}, PrivateKey{}, fmt.Errorf("key id %q is not of the form [A-Za-z0-9_-]+", id)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return PublicKey{}, PrivateKey{}, err
	}
	return PublicKey{ID: id, Key: pub}, PrivateKey{ID: id, Key: priv}, nil
}

// String writes the public key as "ed25519:<id>:<base64>", the form the
// configuration lists.
func (k PublicKey) String() string {
	return publicKeyPrefix + k.ID + ":" + base64.StdEncoding.EncodeToString(k.Key)
}

// String writes the private key as "ed25519-private:<id>:<base64 seed>",
// the form of a key file. Keep it secret.
func (k PrivateKey) String() string {
	return privateKeyPrefix + k.ID + ":" + base64.StdEncoding.EncodeToString(k.Key.Seed())
}

// ParsePublicKey reads "ed25519:<id>:<base64>".
func ParsePublicKey(s string) (PublicKey, error) {
	id, raw, err := splitKey(strings.TrimSpace(s), publicKeyPrefix, ed25519.PublicKeySize)
	if err != nil {
		return PublicKey{}, err
	}
	return PublicKey{ID: id, Key: ed25519.PublicKey(raw)}, nil
}

// ParsePrivateKey reads "ed25519-private:<id>:<base64 seed>".
func ParsePrivateKey(s string) (PrivateKey, error) {
	id, raw, err := splitKey(strings.TrimSpace(s), privateKeyPrefix, ed25519.SeedSize)
	if err != nil {
		return PrivateKey{}, err
	}
	return PrivateKey{ID: id, Key: ed25519.NewKeyFromSeed(raw)}, nil
}

func splitKey(s, prefix string, size int) (string, []byte, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	id, b64, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || !ValidID(id) {
		return "", nil, fmt.Errorf("key: want %s<id>:<base64>", prefix)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != size {
		return "", nil, fmt.Errorf("key %s: not %d bytes of base64", id, size)
	}
	return id, raw, nil
}

// CanonicalEvent is the form of an event's JSON that is signed.
func CanonicalEvent(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", JSONError(err))
	}
	delete(v, "sig")
	// encoding/json writes map members sorted by name.
	return EncodeJSON(v)
}

// SignEvent returns the event's JSON with its "sig" attribute set.
func SignEvent(raw []byte, k PrivateKey) ([]byte, error) {
	canon, err := CanonicalEvent(raw)
	if err != nil {
		return nil, err
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	sig := publicKeyPrefix + k.ID + ":" + base64.StdEncoding.EncodeToString(ed25519.Sign(k.Key, canon))
	v["sig"], _ = json.Marshal(sig)
	return EncodeJSON(v)
}

// VerifyEvent checks the signature of an event's JSON against trusted
// keys and returns the id of the key that signed it. Errors wrap
// ErrSignature and ErrInvalid.
func VerifyEvent(raw []byte, sig string, trusted []PublicKey) (string, error) {
	fail := func(format string, args ...any) (string, error) {
		return "", Invalid(fmt.Errorf("%w: "+format, append([]any{ErrSignature}, args...)...))
	}
	if sig == "" {
		return fail("missing: this facility accepts signed events only")
	}
	rest, ok := strings.CutPrefix(sig, publicKeyPrefix)
	id, b64, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return fail("malformed, want ed25519:<key-id>:<base64>")
	}
	signature, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(signature) != ed25519.SignatureSize {
		return fail("malformed base64 signature")
	}
	canon, err := CanonicalEvent(raw)
	if err != nil {
		return fail("%v", err)
	}
	for _, k := range trusted {
		if k.ID != id {
			continue
		}
		if ed25519.Verify(k.Key, canon, signature) {
			return id, nil
		}
		return fail("does not match key %q: the event was altered or signed with another key", id)
	}
	return fail("key %q is not trusted for this facility", id)
}
