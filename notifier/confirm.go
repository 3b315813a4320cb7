package notifier

import (
	"crypto/hmac"
	"errors"
	"strings"
)

// ErrBadConfirmToken is returned for a confirmation link this worker did
// not make.
var ErrBadConfirmToken = errors.New("not a confirmation link of this worker (unknown or forged token)")

// confirmMACDigits is how much of the HMAC a confirmation token carries:
// 128 bits, so that nobody guesses a link, in few characters, so that the
// link may fit an SMS.
const confirmMACDigits = 32

// ConfirmToken is the token of a notice's confirmation link,
// <notice id>.<mac>: it names the notice, not the patient, and the HMAC
// (with secret) shows the worker made it.
func ConfirmToken(noticeID string, secret []byte) string {
	return noticeID + "." + tokenMAC("confirm", noticeID, secret, confirmMACDigits)
}

// ParseConfirmToken returns the notice a confirmation token names, or
// ErrBadConfirmToken.
func ParseConfirmToken(token string, secret []byte) (string, error) {
	id, mac, ok := strings.Cut(token, ".")
	if !ok || !ValidID(id) || len(mac) != confirmMACDigits ||
		!hmac.Equal([]byte(mac), []byte(tokenMAC("confirm", id, secret, confirmMACDigits))) {
		return "", ErrBadConfirmToken
	}
	return id, nil
}
