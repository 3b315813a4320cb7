package notifier

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// verpPrefix starts the local part of every envelope sender a notice is
// sent with.
const verpPrefix = "bounce+"

// ErrForgedVERP is returned for a bounce address this worker did not make.
var ErrForgedVERP = errors.New("not a bounce address of this worker (unknown or forged token)")

// VERPAddress is the envelope sender of a notice's e-mail,
// bounce+<notice id>.<mac>@<domain>: a bounce comes back to it and names the
// notice, and the HMAC (with secret) shows the worker made it. It holds no
// patient data.
func VERPAddress(noticeID, domain string, secret []byte) string {
	return verpPrefix + noticeID + "." + tokenMAC("verp", noticeID, secret, 20) + "@" + domain
}

// ParseVERP returns the notice a bounce address names, or ErrForgedVERP.
func ParseVERP(addr, domain string, secret []byte) (string, error) {
	local, host, ok := strings.Cut(strings.Trim(strings.TrimSpace(addr), "<>"), "@")
	if !ok || !strings.EqualFold(host, domain) || !strings.HasPrefix(strings.ToLower(local), verpPrefix) {
		return "", ErrForgedVERP
	}
	token := local[len(verpPrefix):]
	id, mac, ok := strings.Cut(token, ".")
	if !ok || !hmac.Equal([]byte(strings.ToLower(mac)), []byte(tokenMAC("verp", id, secret, 20))) {
		return "", ErrForgedVERP
	}
	return id, nil
}

// tokenMAC is the HMAC-SHA256 with secret of a notice id for one purpose
// (a bounce address, a confirmation link), as n hex digits: a token made for
// one purpose is no good for another.
func tokenMAC(purpose, noticeID string, secret []byte, n int) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("notifier " + purpose + "\x00" + noticeID))
	return hex.EncodeToString(h.Sum(nil))[:n]
}
