// Package maildir is the default channel: it delivers each message as a file
// into a Maildir folder, where any mail client, an IMAP server or an operator
// with a shell can pick it up. It works on a fresh machine with no relay.
//
// Delivery follows the Maildir convention: the message is written under tmp/,
// synced to disk, then renamed into new/, so a reader never sees half a
// message and a message Send has reported is on disk.
package maildir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/postponement/notifier/channel/email"
	"github.com/postponement/notifier/notifier"
)

var _ notifier.Sender = (*Channel)(nil)

// deliveries counts the messages this process has delivered, so that names
// stay unique within a second and across channels sharing a folder.
var deliveries atomic.Uint64

// Channel delivers messages into one Maildir folder.
type Channel struct {
	name string
	dir  string
	from *email.Sender
	host string
	// now is the clock for Date headers and file names.
	now func() time.Time
}

// New returns a channel named name delivering into dir, sending as from
// (e.g. "UKD <noreply@example.org>"). It creates dir and its tmp, new and
// cur subfolders, readable by the owner only, if they do not exist.
func New(name, dir, from string) (*Channel, error) {
	addr, err := email.ParseFrom(from)
	if err != nil {
		return nil, fmt.Errorf("maildir %s: %w", name, err)
	}
	sender, err := email.NewSender(addr)
	if err != nil {
		return nil, fmt.Errorf("maildir %s: from: %w", name, err)
	}
	for _, sub := range []string{"", "tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("maildir %s: %w", name, err)
		}
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	return &Channel{name: name, dir: dir, from: sender, host: safeHost(host), now: time.Now}, nil
}

// Name is the channel's configured name.
func (c *Channel) Name() string { return c.name }

// Medium is email: a Maildir holds e-mail for the patient's address.
func (c *Channel) Medium() notifier.Medium { return notifier.MediumEmail }

// Send composes m and delivers it into new/. A missing or malformed address
// is a BadAddress error; a failure to write is Transient.
func (c *Channel) Send(ctx context.Context, m *notifier.Message) error {
	if err := ctx.Err(); err != nil {
		return &notifier.SendError{Class: notifier.Transient, Reason: "cancelled", Err: err}
	}
	now := c.now()
	var buf bytes.Buffer
	if err := c.from.Compose(&buf, m, now); err != nil {
		if errors.Is(err, email.ErrBadAddress) {
			return &notifier.SendError{Class: notifier.BadAddress, Reason: "recipient address unusable", Err: err}
		}
		return &notifier.SendError{Class: notifier.Permanent, Reason: "message cannot be composed", Err: err}
	}
	if err := c.deliver(c.uniqueName(now), buf.Bytes()); err != nil {
		return &notifier.SendError{Class: notifier.Transient, Reason: "maildir write failed", Err: err}
	}
	return nil
}

// uniqueName is a Maildir file name: time.pid_counter.hostname.
func (c *Channel) uniqueName(now time.Time) string {
	return fmt.Sprintf("%d.%d_%d.%s", now.Unix(), os.Getpid(), deliveries.Add(1), c.host)
}

// deliver writes msg to tmp/name, syncs it, moves it to new/name and syncs
// new/ so that the rename itself survives a crash.
func (c *Channel) deliver(name string, msg []byte) error {
	tmp := filepath.Join(c.dir, "tmp", name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(msg)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(c.dir, "new", name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Join(c.dir, "new"))
}

// syncDir flushes a directory's entries to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// safeHost escapes the characters a Maildir name reserves, as the Maildir
// specification asks: "/" as \057 and ":" as \072.
func safeHost(host string) string {
	return strings.NewReplacer("/", `\057`, ":", `\072`).Replace(host)
}
