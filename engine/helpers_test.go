package engine

import (
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/natsd"
)

// testJetStream starts an embedded NATS server for one test and returns a
// JetStream client of it.
func testJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	srv, err := natsd.Start(natsd.Options{Port: -1, StoreDir: filepath.Join(t.TempDir(), "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}
