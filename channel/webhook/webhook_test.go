package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/sms"
)

func TestSendAccepted(t *testing.T) {
	g := startGateway(t, nil)
	c := newChannel(t, g.srv.URL, nil)

	if err := send(t, c, message("n-1")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	req := g.only(t)

	t.Run("posts the payload as JSON", func(t *testing.T) {
		if req.method != http.MethodPost {
			t.Errorf("method = %s, want POST", req.method)
		}
		if got := req.header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", got)
		}
		want := Payload{NoticeID: "n-1", To: patientE164, Text: shortText, Language: "de", Encoding: sms.GSM7, Segments: 1}
		if req.payload != want {
			t.Errorf("payload = %+v, want %+v", req.payload, want)
		}
	})
	t.Run("names the notice as the idempotency key", func(t *testing.T) {
		if got := req.header.Get("Idempotency-Key"); got != "n-1" {
			t.Errorf("Idempotency-Key = %q, want %q", got, "n-1")
		}
	})
	t.Run("the gateway verifies the signature", func(t *testing.T) {
		if req.verifyErr != nil {
			t.Errorf("Verify: %v", req.verifyErr)
		}
	})
	t.Run("the signature is the HMAC-SHA256 of the timestamp and the body", func(t *testing.T) {
		ts := strconv.FormatInt(testNow.Unix(), 10)
		h := hmac.New(sha256.New, testSecret)
		h.Write([]byte(ts + "." + string(req.body)))
		want := "t=" + ts + ",v1=" + hex.EncodeToString(h.Sum(nil))
		if got := req.header.Get(SignatureHeader); got != want {
			t.Errorf("%s = %q, want %q", SignatureHeader, got, want)
		}
	})
	t.Run("a forged body fails verification", func(t *testing.T) {
		forged := strings.Replace(string(req.body), patientE164, "+4915112345678", 1)
		err := Verify(testSecret, req.header.Get(SignatureHeader), []byte(forged), testNow, time.Minute)
		if !errors.Is(err, ErrSignatureMismatch) {
			t.Errorf("Verify(forged body) = %v, want ErrSignatureMismatch", err)
		}
	})
}

func TestSendAcceptsEvery2xx(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusNoContent} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			g := startGateway(t, reply(status, `{"id":"gw-1"}`))
			if err := send(t, newChannel(t, g.srv.URL, nil), message("n-1")); err != nil {
				t.Errorf("Send: %v", err)
			}
		})
	}
}

func TestSendRetryKeepsIdempotencyKey(t *testing.T) {
	g := startGateway(t, reply(http.StatusServiceUnavailable, ""))
	c := newChannel(t, g.srv.URL, nil)

	send(t, c, message("n-7"))
	send(t, c, message("n-7"))

	reqs := g.requests()
	if len(reqs) != 2 {
		t.Fatalf("gateway got %d requests, want 2", len(reqs))
	}
	for i, req := range reqs {
		if got := req.header.Get("Idempotency-Key"); got != "n-7" {
			t.Errorf("request %d: Idempotency-Key = %q, want %q", i, got, "n-7")
		}
	}
}

func TestSendCountsSegments(t *testing.T) {
	g := startGateway(t, nil)
	c := newChannel(t, g.srv.URL, nil)
	m := message("n-1")
	m.Language = "tr"
	m.Short = "UKD: 14.09.2020 09:30 tarihli randevunuz ertelenmiştir. Lütfen gelmeyiniz, size haber verilecek. Tel: +49 211 81-0"

	if err := send(t, c, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := g.only(t).payload
	if got.Encoding != sms.UCS2 || got.Segments != 2 {
		t.Errorf("encoding, segments = %s, %d; want %s, 2 (ş is not in GSM-7)", got.Encoding, got.Segments, sms.UCS2)
	}
}

func TestSendNormalisesNumbers(t *testing.T) {
	tests := []struct {
		name          string
		phone         string
		country       string // the notice's
		defaultRegion string // the channel's
		noNotice      bool
		want          string
	}{
		{"German national number in the notice's country", "0211 5550101", "DE", "", false, "+492115550101"},
		{"country code in lower case", "0211 5550101", "de", "", false, "+492115550101"},
		{"German mobile with punctuation", "(0170) 123-4567", "DE", "", false, "+491701234567"},
		{"international prefix 00", "0049 211 5550101", "DE", "", false, "+492115550101"},
		{"UK number with country code", "+44 20 7946 0958", "DE", "", false, "+442079460958"},
		{"notice's country before the channel's region", "020 7946 0958", "GB", "DE", false, "+442079460958"},
		{"channel's region when the notice has none", "0211 5550101", "", "DE", false, "+492115550101"},
		{"channel's region when the notice's is unknown", "0211 5550101", "XX", "DE", false, "+492115550101"},
		{"channel's region without a notice", "0211 5550101", "", "DE", true, "+492115550101"},
		{"country code needs no region", "+90 212 555 01 01", "", "", false, "+902125550101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := startGateway(t, nil)
			c := newChannel(t, g.srv.URL, func(cfg *Config) { cfg.DefaultRegion = tt.defaultRegion })
			m := message("n-1")
			m.To.Phone, m.Notice.Country = tt.phone, tt.country
			if tt.noNotice {
				m.Notice = nil
			}
			if err := send(t, c, m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if got := g.only(t).payload.To; got != tt.want {
				t.Errorf("to = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSendRefusesNumbers(t *testing.T) {
	tests := []struct {
		name          string
		phone         string
		country       string
		defaultRegion string
		want          notifier.Class
	}{
		{"garbage", "call my daughter", "DE", "DE", notifier.BadAddress},
		{"no number", "", "DE", "DE", notifier.BadAddress},
		{"only blanks", "   ", "DE", "DE", notifier.BadAddress},
		{"too short", "12", "DE", "DE", notifier.BadAddress},
		{"not a number that can exist", "+49 555", "DE", "DE", notifier.BadAddress},
		{"unknown country code", "+999 5550101", "DE", "DE", notifier.BadAddress},
		// The number may be fine; the configuration lacks the region.
		{"national number and no region anywhere", "0211 5550101", "", "", notifier.Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := startGateway(t, nil)
			c := newChannel(t, g.srv.URL, func(cfg *Config) { cfg.DefaultRegion = tt.defaultRegion })
			m := message("n-1")
			m.To.Phone, m.Notice.Country = tt.phone, tt.country

			err := send(t, c, m)

			wantClass(t, err, tt.want)
			wantNoPatientData(t, err)
			if n := len(g.requests()); n != 0 {
				t.Errorf("gateway got %d requests, want none", n)
			}
		})
	}
}

func TestSendClassifiesReplies(t *testing.T) {
	retryAt := testNow.Add(90 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name           string
		respond        func(http.ResponseWriter, *http.Request)
		wantClass      notifier.Class
		wantRetryAfter time.Duration
	}{
		{"429 with Retry-After in seconds is transient", reply(429, "slow down", "Retry-After", "1"), notifier.Transient, time.Second},
		{"429 with Retry-After as a date is transient", reply(429, "", "Retry-After", retryAt), notifier.Transient, 90 * time.Second},
		{"429 without Retry-After is transient", reply(429, ""), notifier.Transient, 0},
		{"503 is transient", reply(503, "maintenance"), notifier.Transient, 0},
		{"503 with Retry-After is transient", reply(503, "", "Retry-After", "120"), notifier.Transient, 2 * time.Minute},
		{"500 is transient", reply(500, "internal error"), notifier.Transient, 0},
		{"408 is transient", reply(408, ""), notifier.Transient, 0},
		{"400 is a bad address", reply(400, `{"error":"invalid destination"}`), notifier.BadAddress, 0},
		{"400 ignores Retry-After", reply(400, "", "Retry-After", "5"), notifier.BadAddress, 0},
		{"404 is a bad address", reply(404, "no such subscriber"), notifier.BadAddress, 0},
		{"410 is a bad address", reply(410, ""), notifier.BadAddress, 0},
		{"422 is a bad address", reply(422, "landline"), notifier.BadAddress, 0},
		// These say the channel is set up wrong, not that the number is bad:
		// the next channel is tried, and other SMS channels stay usable.
		{"401 is permanent", reply(401, "bad signature"), notifier.Permanent, 0},
		{"403 is permanent", reply(403, ""), notifier.Permanent, 0},
		{"405 is permanent", reply(405, ""), notifier.Permanent, 0},
		{"415 is permanent", reply(415, ""), notifier.Permanent, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := startGateway(t, tt.respond)
			c := newChannel(t, g.srv.URL, nil)

			err := send(t, c, message("n-1"))

			se := wantClass(t, err, tt.wantClass)
			if verr := g.only(t).verifyErr; verr != nil {
				t.Errorf("Verify: %v", verr)
			}
			if se.RetryAfter != tt.wantRetryAfter {
				t.Errorf("RetryAfter = %v, want %v", se.RetryAfter, tt.wantRetryAfter)
			}
			if status, _ := strconv.Atoi(strings.Fields(tt.name)[0]); se.Code != status {
				t.Errorf("Code = %d, want %d", se.Code, status)
			}
			wantNoPatientData(t, err)
		})
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	elsewhere := startGateway(t, nil)
	g := startGateway(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.srv.URL, http.StatusTemporaryRedirect)
	})
	c := newChannel(t, g.srv.URL, nil)

	err := send(t, c, message("n-1"))

	if se := wantClass(t, err, notifier.Permanent); se.Code != http.StatusTemporaryRedirect {
		t.Errorf("Code = %d, want 307", se.Code)
	}
	if n := len(elsewhere.requests()); n != 0 {
		t.Errorf("the redirect's target got %d requests, want none", n)
	}
}

func TestSendReasonNeverQuotesNumberOrText(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantReason string
	}{
		{
			name:       "a reply that echoes the number",
			body:       `{"error":"invalid destination +492115550101 (was: 0211 5550101)","code":21211}`,
			wantReason: `gateway refused the message for this number: {"error":"invalid destination [redacted] (was: [redacted])","code":[redacted]}`,
		},
		{
			name:       "a reply that echoes the text",
			body:       `{"error":"text too long","text":"` + shortText + `"}`,
			wantReason: "gateway refused the message for this number",
		},
		{
			name:       "a reply that echoes part of the text, escaped",
			body:       `{"error":"rejected","text":"UKD: Ihr Termin am 14.09.2020 um 09:30 ist verschoben. Bitte kommen Sie nicht \u2026"}`,
			wantReason: "gateway refused the message for this number",
		},
		{
			name:       "a long reply is cut",
			body:       strings.Repeat("unknown subscriber ", 1000),
			wantReason: "gateway refused the message for this number: unknown subscriber unknown subscriber",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := startGateway(t, reply(http.StatusBadRequest, tt.body))
			c := newChannel(t, g.srv.URL, nil)

			err := send(t, c, message("n-1"))

			se := wantClass(t, err, notifier.BadAddress)
			if !strings.HasPrefix(se.Reason, tt.wantReason) {
				t.Errorf("reason = %q, want it to start with %q", se.Reason, tt.wantReason)
			}
			if len(se.Reason) > 300 {
				t.Errorf("reason has %d bytes, want at most 300", len(se.Reason))
			}
			wantNoPatientData(t, err)
		})
	}
}

func TestSendFailsFast(t *testing.T) {
	// Every case must fail well within this, with a 200ms timeout.
	const limit = time.Second

	t.Run("a gateway that never answers is transient", func(t *testing.T) {
		var g *gateway
		g = startGateway(t, func(w http.ResponseWriter, r *http.Request) { g.hang(w, r) })
		c := newChannel(t, g.srv.URL, nil)

		start := time.Now()
		err := send(t, c, message("n-1"))

		se := wantClass(t, err, notifier.Transient)
		if elapsed := time.Since(start); elapsed > limit {
			t.Errorf("Send took %v, want less than %v", elapsed, limit)
		}
		if !strings.Contains(se.Reason, "timed out") {
			t.Errorf("reason = %q, want a timeout", se.Reason)
		}
	})
	t.Run("a closed port is transient", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c := newChannel(t, "http://"+addr+"/sms?token=s3cr3t", nil)

		se := wantClass(t, send(t, c, message("n-1")), notifier.Transient)
		if !strings.Contains(se.Reason, "refused the connection") {
			t.Errorf("reason = %q, want a refused connection", se.Reason)
		}
		// A gateway's URL may hold an API token in its query.
		if se.Err == nil || strings.Contains(se.Err.Error(), "s3cr3t") {
			t.Errorf("wrapped error = %v, want the network error without the URL", se.Err)
		}
	})
	t.Run("a gateway that drops the connection is transient", func(t *testing.T) {
		g := startGateway(t, func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		})
		c := newChannel(t, g.srv.URL, nil)

		wantClass(t, send(t, c, message("n-1")), notifier.Transient)
	})
	t.Run("the caller's context ends the wait", func(t *testing.T) {
		var g *gateway
		g = startGateway(t, func(w http.ResponseWriter, r *http.Request) { g.hang(w, r) })
		c := newChannel(t, g.srv.URL, func(cfg *Config) { cfg.Timeout = time.Minute })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()

		start := time.Now()
		se := wantClass(t, c.Send(ctx, message("n-1")), notifier.Transient)
		if elapsed := time.Since(start); elapsed > limit {
			t.Errorf("Send took %v, want less than %v", elapsed, limit)
		}
		if !errors.Is(se, context.DeadlineExceeded) || !strings.HasPrefix(se.Reason, "cancelled") {
			t.Errorf("error = %v, want the context's", se)
		}
	})
}

func TestSendLimitsConcurrency(t *testing.T) {
	const maxConns, sends = 2, 10
	// Every request is held until the test has seen the limit reached.
	gate := make(chan struct{})
	g := startGateway(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
			w.WriteHeader(http.StatusAccepted)
		case <-r.Context().Done():
		}
	})
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	c := newChannel(t, g.srv.URL, func(cfg *Config) {
		cfg.MaxConns = maxConns
		cfg.Timeout = 5 * time.Second
	})

	errs := make(chan error, sends)
	var wg sync.WaitGroup
	for i := range sends {
		wg.Go(func() { errs <- send(t, c, message("n-"+strconv.Itoa(i))) })
	}
	waitFor(t, func() bool { return len(g.requests()) == maxConns })
	// Give a request beyond the limit the chance to arrive, were it sent.
	time.Sleep(50 * time.Millisecond)
	release()
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.maxActive != maxConns {
		t.Errorf("gateway saw up to %d requests at once, want %d", g.maxActive, maxConns)
	}
	if len(g.reqs) != sends {
		t.Errorf("gateway got %d requests, want %d", len(g.reqs), sends)
	}
}

func TestSendRefusesWithoutRequest(t *testing.T) {
	tests := []struct {
		name   string
		send   func(c *Channel) error
		want   notifier.Class
		reason string
	}{
		{"a message without short text is permanent", func(c *Channel) error {
			m := message("n-1")
			m.Short = " "
			return c.Send(context.Background(), m)
		}, notifier.Permanent, "no short text"},
		{"a message without notice id is permanent", func(c *Channel) error {
			m := message("")
			return c.Send(context.Background(), m)
		}, notifier.Permanent, "no notice id"},
		{"an ended context is transient", func(c *Channel) error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return c.Send(ctx, message("n-1"))
		}, notifier.Transient, "cancelled"},
		{"a closed channel is transient", func(c *Channel) error {
			c.Close()
			err := c.Send(context.Background(), message("n-1"))
			if !errors.Is(err, ErrClosed) {
				return errors.New("not ErrClosed")
			}
			return err
		}, notifier.Transient, "closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := startGateway(t, nil)
			c := newChannel(t, g.srv.URL, nil)

			se := wantClass(t, tt.send(c), tt.want)

			if !strings.Contains(se.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to mention %q", se.Reason, tt.reason)
			}
			if n := len(g.requests()); n != 0 {
				t.Errorf("gateway got %d requests, want none", n)
			}
		})
	}
}

func TestSendOverTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	// The refused handshake is the point of a case, not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)

	t.Run("with a client that trusts the gateway's root", func(t *testing.T) {
		c := newChannel(t, srv.URL, func(cfg *Config) { cfg.Client = srv.Client() })
		if err := send(t, c, message("n-1")); err != nil {
			t.Errorf("Send: %v", err)
		}
	})
	t.Run("an untrusted certificate is permanent", func(t *testing.T) {
		// The handshake fails at once; the long timeout only keeps a busy
		// machine (the race detector) from turning it into a time-out.
		c := newChannel(t, srv.URL, func(cfg *Config) { cfg.Timeout = 10 * time.Second })
		se := wantClass(t, send(t, c, message("n-1")), notifier.Permanent)
		if !strings.Contains(se.Reason, "certificate") {
			t.Errorf("reason = %q, want it to mention the certificate", se.Reason)
		}
	})
}

// waitFor polls cond until it holds, or stops the test after a second.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within a second")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
