package webhook_test

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/postponement/notifier/channel/webhook"
)

// A gateway written in Go checks each request's signature against the body
// as received, before it decodes it, and sends each notice at most once.
func ExampleVerify() {
	secret := []byte("the same secret the notifier reads")
	http.HandleFunc("POST /sms", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
			// 401 makes the notifier try its next channel; any 4xx but
			// 401, 403, 405, 407, 408, 413, 415 and 425 would mark the
			// patient's number as bad for every SMS channel.
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			// A body the gateway cannot read is no fault of the number.
			http.Error(w, "unreadable payload", http.StatusUnsupportedMediaType)
			return
		}
		// Hand p.Text to the provider for p.To, unless the notice
		// r.Header.Get("Idempotency-Key") was handed over already. Answer
		// 422 if the provider refuses the number, 503 with Retry-After
		// while the provider is down, and 202 once it has the message.
		w.WriteHeader(http.StatusAccepted)
	})
}
