package maildir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/postponement/notifier/notifier"
)

func testMessage(id string) *notifier.Message {
	return &notifier.Message{
		NoticeID: id,
		Language: "de",
		To:       notifier.Recipient{Name: "Jürgen Groß", Email: "juergen@example.org"},
		Subject:  "Ihr Termin ist verschoben",
		Text:     "Bitte kommen Sie nicht.\n",
		HTML:     "<p>Bitte kommen Sie nicht.</p>\n",
	}
}

// newChannel returns a channel on a fresh folder and that folder.
func newChannel(t *testing.T) (*Channel, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "Maildir")
	c, err := New("local", dir, "UKD <noreply@example.org>")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, dir
}

// entries lists the file names in dir/sub.
func entries(t *testing.T, dir, sub string) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(dir, sub))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(des))
	for i, de := range des {
		names[i] = de.Name()
	}
	return names
}

// mode returns the permission bits of path.
func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestNew(t *testing.T) {
	c, dir := newChannel(t)

	t.Run("creates tmp, new and cur for the owner only", func(t *testing.T) {
		for _, sub := range []string{"", "tmp", "new", "cur"} {
			if got, want := mode(t, filepath.Join(dir, sub)), os.FileMode(0o700); got != want {
				t.Errorf("%s/%s: got mode %v, want %v", filepath.Base(dir), sub, got, want)
			}
		}
	})
	t.Run("is an e-mail sender", func(t *testing.T) {
		if got, want := c.Name(), "local"; got != want {
			t.Errorf("Name: got %q, want %q", got, want)
		}
		if got, want := c.Medium(), notifier.MediumEmail; got != want {
			t.Errorf("Medium: got %q, want %q", got, want)
		}
	})
	t.Run("opens an existing folder", func(t *testing.T) {
		if _, err := New("again", dir, "noreply@example.org"); err != nil {
			t.Errorf("New on an existing Maildir: %v", err)
		}
	})
	t.Run("refuses a bad sender", func(t *testing.T) {
		if _, err := New("bad", t.TempDir(), "not an address"); err == nil {
			t.Error("got no error, want one")
		}
	})
}

func TestSend(t *testing.T) {
	t.Run("the message lands in new/ and parses back", func(t *testing.T) {
		c, dir := newChannel(t)
		date := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
		c.now = func() time.Time { return date }
		m := testMessage("n-1")

		if err := c.Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := entries(t, dir, "tmp"); len(got) != 0 {
			t.Errorf("tmp/: got %v, want empty", got)
		}
		files := entries(t, dir, "new")
		if len(files) != 1 {
			t.Fatalf("new/: got %v, want one file", files)
		}
		path := filepath.Join(dir, "new", files[0])
		if got, want := mode(t, path), os.FileMode(0o600); got != want {
			t.Errorf("file mode: got %v, want %v", got, want)
		}
		wantPrefix := fmt.Sprintf("%d.%d_", date.Unix(), os.Getpid())
		if len(files[0]) < len(wantPrefix) || files[0][:len(wantPrefix)] != wantPrefix {
			t.Errorf("file name %q, want prefix %q (time.pid_counter.host)", files[0], wantPrefix)
		}

		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r, err := mail.CreateReader(f)
		if err != nil {
			t.Fatalf("parsing the delivered file: %v", err)
		}
		to, err := r.Header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Name != m.To.Name || to[0].Address != m.To.Email {
			t.Errorf("To: got %v (err %v), want %q <%s>", to, err, m.To.Name, m.To.Email)
		}
		if got, err := r.Header.Subject(); err != nil || got != m.Subject {
			t.Errorf("Subject: got %q (err %v), want %q", got, err, m.Subject)
		}
		if got, err := r.Header.Date(); err != nil || !got.Equal(date) {
			t.Errorf("Date: got %v (err %v), want %v", got, err, date)
		}
	})

	t.Run("concurrent sends get distinct files", func(t *testing.T) {
		c, dir := newChannel(t)
		const n = 20
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() { errs <- c.Send(context.Background(), testMessage(fmt.Sprintf("n-%d", i))) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Send: %v", err)
			}
		}
		if got := len(entries(t, dir, "new")); got != n {
			t.Errorf("new/: got %d files, want %d", got, n)
		}
	})

	t.Run("an empty address is a bad address and writes nothing", func(t *testing.T) {
		c, dir := newChannel(t)
		m := testMessage("n-2")
		m.To.Email = ""

		err := c.Send(context.Background(), m)
		if got := notifier.ClassOf(err); got != notifier.BadAddress {
			t.Errorf("class of %v: got %v, want %v", err, got, notifier.BadAddress)
		}
		if got := entries(t, dir, "new"); len(got) != 0 {
			t.Errorf("new/: got %v, want empty", got)
		}
	})

	t.Run("a message that cannot be composed is permanent", func(t *testing.T) {
		c, _ := newChannel(t)
		m := testMessage("")

		if got := notifier.ClassOf(c.Send(context.Background(), m)); got != notifier.Permanent {
			t.Errorf("class: got %v, want %v", got, notifier.Permanent)
		}
	})

	t.Run("a cancelled context writes nothing", func(t *testing.T) {
		c, dir := newChannel(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()

		err := c.Send(ctx, testMessage("n-3"))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		if got := entries(t, dir, "new"); len(got) != 0 {
			t.Errorf("new/: got %v, want empty", got)
		}
	})

	t.Run("a folder that vanished is transient", func(t *testing.T) {
		c, dir := newChannel(t)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if got := notifier.ClassOf(c.Send(context.Background(), testMessage("n-4"))); got != notifier.Transient {
			t.Errorf("class: got %v, want %v", got, notifier.Transient)
		}
	})
}

func TestSafeHost(t *testing.T) {
	if got, want := safeHost("a/b:c"), `a\057b\072c`; got != want {
		t.Errorf("safeHost: got %q, want %q", got, want)
	}
}
