package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries a request's signature:
//
//	X-Notifier-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
//
// The timestamp is signed with the body, so a captured request cannot be
// replayed once it is older than the gateway's tolerance; within it, the
// Idempotency-Key header lets the gateway drop the replay as a duplicate.
const SignatureHeader = "X-Notifier-Signature"

// DefaultTolerance is how far a signature's timestamp may be from the
// verifier's clock when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrSignatureMalformed = errors.New("webhook signature malformed")
	ErrSignatureStale     = errors.New("webhook signature timestamp outside the tolerance")
	ErrSignatureMismatch  = errors.New("webhook signature does not match")
)

// Sign returns the header value that signs body at t with secret, as the
// channel signs its requests and as gateways sign delivery receipts.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// mac is the HMAC-SHA256 of "<ts>.<body>".
func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks header, the value of a request's SignatureHeader, against
// body, the request's body exactly as received, for a gateway written in
// Go. It fails with ErrSignatureStale when the timestamp is more than
// tolerance (DefaultTolerance if zero or less) before or after now, and
// with ErrSignatureMismatch unless one of the header's v1 values is the
// signature made with secret. Several v1 values let a sender sign with an
// old and a new secret while the key is rotated; unknown keys are ignored.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return errors.New("webhook: verify: empty secret")
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrSignatureMalformed
		}
		switch k {
		case "t":
			if ts != "" {
				return ErrSignatureMalformed
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return ErrSignatureMalformed
			}
			sigs = append(sigs, sig)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrSignatureMalformed
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureStale
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return ErrSignatureMismatch
}
