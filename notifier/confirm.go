package notifier

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// ErrBadConfirmToken is returned for a confirmation link this worker did
// not make.
var ErrBadConfirmToken = errors.New("not a confirmation link of this worker (unknown or forged token)")

// ErrConfirmNoticeUnknown is returned for a compact confirmation token
// whose notice the store does not know (yet): a link of a notice this
// worker's store has not caught up with, or a forged one.
var ErrConfirmNoticeUnknown = errors.New("no notice known here for the confirmation link")

// A compact confirmation token is ConfirmTokenLen characters of base64url
// holding confirmRefBytes of the notice id (its first hex digits: a
// reference to look the notice up by, which names the notice, not the
// patient) and confirmMACBytes of an HMAC of the whole notice id: 72 bits,
// so that nobody guesses a link, in few enough characters that a link fits
// a short SMS.
const (
	confirmRefBytes = 3
	confirmMACBytes = 9
	// ConfirmTokenLen is the length of a compact confirmation token.
	ConfirmTokenLen = (confirmRefBytes + confirmMACBytes) * 4 / 3
)

// legacyMACDigits is how much of the HMAC a token of the earlier long form,
// <notice id>.<32 hex digits>, carries; links of that form stay valid.
const legacyMACDigits = 32

// ConfirmToken is the token of a notice's confirmation link: compact
// (ConfirmTokenLen characters) for a notice id of the usual form
// (n-<32 hex digits>), else <notice id>.<mac>. It names the notice, not the
// patient, and the HMAC (with secret) shows the worker made it.
func ConfirmToken(noticeID string, secret []byte) string {
	ref, ok := noticeRef(noticeID)
	if !ok {
		return legacyConfirmToken(noticeID, secret)
	}
	return base64.RawURLEncoding.EncodeToString(append(ref, confirmMAC(noticeID, secret)...))
}

func legacyConfirmToken(noticeID string, secret []byte) string {
	return noticeID + "." + tokenMAC("confirm", noticeID, secret, legacyMACDigits)
}

// ParseConfirmToken returns the notice a confirmation token names, or
// ErrBadConfirmToken. A compact token names its notice by the start of its
// id: lookup lists the notices whose id starts so (few, usually one), and
// the one the HMAC was made for is the token's; when lookup finds none,
// the error is ErrConfirmNoticeUnknown.
func ParseConfirmToken(token string, secret []byte, lookup func(prefix string) ([]string, error)) (string, error) {
	if id, mac, ok := strings.Cut(token, "."); ok {
		if !ValidID(id) || len(mac) != legacyMACDigits ||
			!hmac.Equal([]byte(mac), []byte(tokenMAC("confirm", id, secret, legacyMACDigits))) {
			return "", ErrBadConfirmToken
		}
		return id, nil
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if len(token) != ConfirmTokenLen || err != nil {
		return "", ErrBadConfirmToken
	}
	candidates, err := lookup(noticeIDPrefix + hex.EncodeToString(b[:confirmRefBytes]))
	if err != nil {
		return "", err
	}
	if len(candidates) == 0 {
		return "", ErrConfirmNoticeUnknown
	}
	for _, id := range candidates {
		if ref, ok := noticeRef(id); ok && hmac.Equal(ref, b[:confirmRefBytes]) && hmac.Equal(confirmMAC(id, secret), b[confirmRefBytes:]) {
			return id, nil
		}
	}
	return "", ErrBadConfirmToken
}

// noticeIDPrefix starts every notice id of the usual form.
const noticeIDPrefix = "n-"

// noticeRef is the start of a notice id of the usual form, as bytes.
func noticeRef(noticeID string) ([]byte, bool) {
	if len(noticeID) != len(noticeIDPrefix)+32 || !strings.HasPrefix(noticeID, noticeIDPrefix) {
		return nil, false
	}
	b, err := hex.DecodeString(noticeID[len(noticeIDPrefix):])
	if err != nil || hex.EncodeToString(b) != noticeID[len(noticeIDPrefix):] {
		return nil, false // not hex, or not lowercase
	}
	return b[:confirmRefBytes], true
}

// confirmMAC is the HMAC of a compact token.
func confirmMAC(noticeID string, secret []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("notifier confirm-link\x00" + noticeID))
	return h.Sum(nil)[:confirmMACBytes]
}
