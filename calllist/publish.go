package calllist

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// outageIDPattern is what an outage id must look like to name a file: the
// shape notifier accepts, without a leading dot, so the id can neither leave
// the directory nor hide the file.
var outageIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$`)

// errBadOutageID rejects an outage id that cannot name a file.
var errBadOutageID = errors.New("outage id cannot name a file")

// Publish writes the call list as dir/<outage-id>.csv and dir/<outage-id>.html
// and returns their paths. Each file is replaced atomically: it is written
// to a temporary file in dir, synced and renamed over the old one, so a
// reader, or a printer, sees the old list or the new one, never half of one.
// Both lists are rendered before either file is touched; should writing the
// HTML fail after the CSV was replaced, the CSV is the newer of the two.
//
// The files hold patient data, so they are readable by their owner only
// (0600), and dir is created 0700 when it does not exist. An existing dir
// keeps its permissions.
func Publish(dir string, o Outage, rows []Row, generated time.Time) (csvPath, htmlPath string, err error) {
	if !outageIDPattern.MatchString(o.ID) {
		return "", "", fmt.Errorf("publish call list: %q: %w", o.ID, errBadOutageID)
	}
	var csvBuf, htmlBuf bytes.Buffer
	if err := WriteCSV(&csvBuf, o, rows); err != nil {
		return "", "", fmt.Errorf("publish call list: %w", err)
	}
	if err := WriteHTML(&htmlBuf, o, rows, generated); err != nil {
		return "", "", fmt.Errorf("publish call list: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("publish call list: %w", err)
	}
	csvPath = filepath.Join(dir, o.ID+".csv")
	htmlPath = filepath.Join(dir, o.ID+".html")
	if err := writeAtomic(csvPath, csvBuf.Bytes()); err != nil {
		return "", "", fmt.Errorf("publish call list: %w", err)
	}
	if err := writeAtomic(htmlPath, htmlBuf.Bytes()); err != nil {
		return "", "", fmt.Errorf("publish call list: %w", err)
	}
	return csvPath, htmlPath, nil
}

// writeAtomic replaces the file at path with data, mode 0600, through a
// temporary file in the same directory that is synced before the rename.
// The directory is synced after it, so the rename survives a power cut.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir flushes a directory's entries to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
