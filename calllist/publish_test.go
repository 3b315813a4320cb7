package calllist

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestPublish(t *testing.T) {
	t.Run("writes both lists readable by their owner only", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "calllists")
		csvPath, htmlPath := publish(t, dir, sampleRows(t))
		if got, want := csvPath, filepath.Join(dir, "2024-03-cyber-1.csv"); got != want {
			t.Errorf("csv path: got %s, want %s", got, want)
		}
		if got, want := htmlPath, filepath.Join(dir, "2024-03-cyber-1.html"); got != want {
			t.Errorf("html path: got %s, want %s", got, want)
		}
		for path, want := range map[string]fs.FileMode{dir: fs.ModeDir | 0o700, csvPath: 0o600, htmlPath: 0o600} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode(); got != want {
				t.Errorf("%s: got mode %v, want %v", path, got, want)
			}
		}
	})
	t.Run("the files hold what WriteCSV and WriteHTML write", func(t *testing.T) {
		csvPath, htmlPath := publish(t, t.TempDir(), sampleRows(t))
		var wantCSV, wantHTML bytes.Buffer
		if err := WriteCSV(&wantCSV, sampleOutage(t), sampleRows(t)); err != nil {
			t.Fatal(err)
		}
		if err := WriteHTML(&wantHTML, sampleOutage(t), sampleRows(t), sampleGenerated(t)); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, csvPath); got != wantCSV.String() {
			t.Errorf("csv differs from WriteCSV:\n%s", got)
		}
		if got := readFile(t, htmlPath); got != wantHTML.String() {
			t.Errorf("html differs from WriteHTML:\n%s", got)
		}
	})
	t.Run("a second publish replaces the lists and leaves no temporary files", func(t *testing.T) {
		dir := t.TempDir()
		publish(t, dir, sampleRows(t))
		csvPath, htmlPath := publish(t, dir, nil)
		if got := readFile(t, csvPath); bytes.Contains([]byte(got), []byte("Mustermann")) {
			t.Errorf("csv still lists the first publish's patients:\n%s", got)
		}
		if got := readFile(t, htmlPath); !bytes.Contains([]byte(got), []byte("Nobody to call.")) {
			t.Errorf("html is not the empty list:\n%s", got)
		}
		if got, want := dirNames(t, dir), []string{"2024-03-cyber-1.csv", "2024-03-cyber-1.html"}; !slices.Equal(got, want) {
			t.Errorf("dir holds %q, want only %q", got, want)
		}
	})
	t.Run("an existing directory keeps its permissions", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		publish(t, dir, sampleRows(t))
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fi.Mode().Perm(), fs.FileMode(0o750); got != want {
			t.Errorf("got mode %v, want %v", got, want)
		}
	})
	t.Run("rejects outage ids that cannot name a file, and writes nothing", func(t *testing.T) {
		for _, id := range []string{"", "../escape", "a/b", `a\b`, ".hidden", "..", "with space"} {
			dir := t.TempDir()
			o := sampleOutage(t)
			o.ID = id
			_, _, err := Publish(dir, o, sampleRows(t), sampleGenerated(t))
			if !errors.Is(err, errBadOutageID) {
				t.Errorf("id %q: got %v, want %v", id, err, errBadOutageID)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("id %q: dir holds %q, want nothing", id, names)
			}
		}
	})
	t.Run("fails without a time zone, and writes nothing", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "calllists")
		o := sampleOutage(t)
		o.TimeZone = nil
		if _, _, err := Publish(dir, o, sampleRows(t), sampleGenerated(t)); !errors.Is(err, errNoTimeZone) {
			t.Errorf("got %v, want %v", err, errNoTimeZone)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("dir: got %v, want it not created", err)
		}
	})
}

// publish publishes the sample outage's list of rows into dir.
func publish(t *testing.T, dir string, rows []Row) (csvPath, htmlPath string) {
	t.Helper()
	csvPath, htmlPath, err := Publish(dir, sampleOutage(t), rows, sampleGenerated(t))
	if err != nil {
		t.Fatal(err)
	}
	return csvPath, htmlPath
}

// readFile returns the file's content.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dirNames lists the names in dir, hidden ones included, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
