package web_test

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var screenshotDir = flag.String("screenshot-dir", "", "also save the browser test's screenshots in this folder")

// chromium finds Debian's Chromium. Without it the browser test fails when
// the environment variable CI is set, and is skipped elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const msg = "the browser test needs Chromium: apt-get install -y chromium"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser starts a headless Chromium with a new, empty profile and no
// network of its own beyond the pages it is sent to, and returns a tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := chromium(t)
	profile, err := os.MkdirTemp("", "notifier-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Chromium's helper processes may write in the profile for a moment
		// after the browser stops.
		for range 50 {
			if err := os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// screenshot saves a full-page PNG in the test's folder and, with
// -screenshot-dir, there too.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{t.TempDir()}
	if *screenshotDir != "" {
		dirs = append(dirs, *screenshotDir)
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
}

// eval evaluates a JavaScript expression in the page, through the
// debugging protocol: the page itself runs no script.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// digits reads a number as the page writes it, thousands apart.
func digits(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s))
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}

func TestBrowserShowsTheDatabasesNumbers(t *testing.T) {
	ctx := browser(t)
	r := startRun(t)
	r.importSample(300)
	r.wait(r.declare("ukd-browser"))
	sum, err := r.w.DB.Summarize(context.Background(), "ukd-browser")
	if err != nil {
		t.Fatal(err)
	}

	views := []struct {
		name          string
		width, height int64
		scale         float64
		tileColumns   int
	}{
		{"desktop", 1280, 900, 1, 4},
		{"phone", 390, 844, 3, 2},
	}
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			if err := chromedp.Do(ctx,
				chromedp.EmulateViewport(v.width, v.height, chromedp.EmulateScale(v.scale)),
				chromedp.Navigate(r.srv.URL+"/"),
				chromedp.WaitVisible(chromedp.CSS(`section.outage`)),
			); err != nil {
				t.Fatal(err)
			}
			shown := eval[map[string]string](t, ctx,
				`Object.fromEntries([...document.querySelectorAll('[data-count]')].map(e => [e.dataset.count, e.textContent]))`)
			for field, want := range map[string]int{"planned": sum.Planned, "delivered": sum.Delivered, "manual": sum.Manual, "pending": sum.Pending} {
				if got := digits(t, shown[field]); got != want {
					t.Errorf("page shows %d %s, the database has %d", got, field, want)
				}
			}
			relay := eval[string](t, ctx, `document.querySelector('[data-channel="relay"]').nextElementSibling.textContent`)
			if got := digits(t, relay); got != sum.ByChannel["relay"] {
				t.Errorf("page shows %d delivered by relay, the database has %d", got, sum.ByChannel["relay"])
			}
			if down := eval[string](t, ctx, `document.querySelector('tr[data-channel="relay-down"]').textContent`); !strings.Contains(down, "breaker open") {
				t.Errorf("the relay that is down is shown as %q", strings.Join(strings.Fields(down), " "))
			}
			// The style sheet applied despite the policy, and the layout fits
			// the screen.
			if bg := eval[string](t, ctx, `getComputedStyle(document.querySelector('header')).backgroundColor`); bg != "rgb(31, 35, 40)" {
				t.Errorf("header background %q: the style sheet did not apply", bg)
			}
			if cols := eval[int](t, ctx, `getComputedStyle(document.querySelector('.tiles')).gridTemplateColumns.split(' ').length`); cols != v.tileColumns {
				t.Errorf("%d columns of counts, want %d", cols, v.tileColumns)
			}
			if wide := eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth`); wide {
				t.Error("the page is wider than the screen")
			}
			screenshot(t, ctx, "status-"+v.name+".png")
		})
	}

	t.Run("call list", func(t *testing.T) {
		if err := chromedp.Do(ctx,
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(r.srv.URL+"/outages/ukd-browser/calllist.html"),
			chromedp.WaitVisible(chromedp.CSS(`table`)),
		); err != nil {
			t.Fatal(err)
		}
		if rows := eval[int](t, ctx, `document.querySelectorAll('tbody tr').length`); rows != sum.Manual {
			t.Errorf("%d rows on the call list, want %d", rows, sum.Manual)
		}
		// The page's own inline style is allowed by its hash.
		if c := eval[string](t, ctx, `getComputedStyle(document.querySelector('table')).borderCollapse`); c != "collapse" {
			t.Errorf("table border-collapse %q: the page's style was refused", c)
		}
		screenshot(t, ctx, "calllist.png")
	})
}
