package webhook

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	body := []byte(`{"notice_id":"n-1","to":"+492115550101","text":"…","language":"de","encoding":"GSM-7","segments":1}`)
	signed := Sign(testSecret, testNow, body)
	_, v1, _ := strings.Cut(signed, ",")
	ts := "t=" + strconv.FormatInt(testNow.Unix(), 10)
	other := Sign([]byte("another secret of sixteen bytes"), testNow, body)
	_, otherV1, _ := strings.Cut(other, ",")

	tests := []struct {
		name      string
		secret    []byte
		header    string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error // nil, or the sentinel Verify must wrap
	}{
		{"a valid signature", testSecret, signed, body, testNow, time.Minute, nil},
		{"spaces after the commas", testSecret, ts + ", " + v1, body, testNow, time.Minute, nil},
		{"the signature after an old one, while the key is rotated", testSecret, ts + "," + otherV1 + "," + v1, body, testNow, time.Minute, nil},
		{"unknown keys are ignored", testSecret, ts + ",v2=abc," + v1, body, testNow, time.Minute, nil},
		{"a changed body", testSecret, signed, append([]byte(" "), body...), testNow, time.Minute, ErrSignatureMismatch},
		{"another secret", []byte("another secret of sixteen bytes"), signed, body, testNow, time.Minute, ErrSignatureMismatch},
		{"another timestamp", testSecret, "t=" + strconv.FormatInt(testNow.Unix()+1, 10) + "," + v1, body, testNow, time.Minute, ErrSignatureMismatch},
		{"at the edge of the tolerance", testSecret, signed, body, testNow.Add(time.Minute), time.Minute, nil},
		{"older than the tolerance", testSecret, signed, body, testNow.Add(time.Minute + time.Second), time.Minute, ErrSignatureStale},
		{"further ahead than the tolerance", testSecret, signed, body, testNow.Add(-time.Minute - time.Second), time.Minute, ErrSignatureStale},
		{"no tolerance means the default: within", testSecret, signed, body, testNow.Add(DefaultTolerance), 0, nil},
		{"no tolerance means the default: beyond", testSecret, signed, body, testNow.Add(DefaultTolerance + time.Second), 0, ErrSignatureStale},
		{"no header", testSecret, "", body, testNow, time.Minute, ErrSignatureMalformed},
		{"no timestamp", testSecret, v1, body, testNow, time.Minute, ErrSignatureMalformed},
		{"two timestamps", testSecret, ts + "," + ts + "," + v1, body, testNow, time.Minute, ErrSignatureMalformed},
		{"a timestamp that is not a number", testSecret, "t=yesterday," + v1, body, testNow, time.Minute, ErrSignatureMalformed},
		{"no signature", testSecret, ts, body, testNow, time.Minute, ErrSignatureMalformed},
		{"a signature that is not hex", testSecret, ts + ",v1=xyz", body, testNow, time.Minute, ErrSignatureMalformed},
		{"a truncated signature", testSecret, signed[:len(signed)-2], body, testNow, time.Minute, ErrSignatureMalformed},
		{"a part without =", testSecret, signed + ",junk", body, testNow, time.Minute, ErrSignatureMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.now, tt.tolerance)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Verify() = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("an empty secret verifies nothing", func(t *testing.T) {
		unkeyed := Sign(nil, testNow, body)
		if err := Verify(nil, unkeyed, body, testNow, time.Minute); err == nil {
			t.Error("Verify() with an empty secret = nil, want an error")
		}
	})
}
