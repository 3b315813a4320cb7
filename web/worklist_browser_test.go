package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// submit clicks a form's button and waits until the page it leads to is
// loaded.
func submit(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	eval[bool](t, ctx, `window.leaving = true`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		// While the browser navigates, the old page's context goes away.
		if loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.leaving !== true && document.readyState === "complete"`)); err == nil && loaded {
			return
		}
	}
	t.Fatalf("no page loaded after clicking %s", sel)
}

// reloadUntil reloads the page until the expression holds, as staff
// reload to see what the others did.
func reloadUntil(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitReady(chromedp.CSS(`body`))); err != nil {
			t.Fatal(err)
		}
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
	}
	t.Fatalf("the page never showed that %s", what)
}

// signInBrowser opens the call list and signs in through its form.
func signInBrowser(t *testing.T, ctx context.Context, url, name string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`form.staff input[name="name"]`)),
		chromedp.SendKeys(chromedp.CSS(`form.staff input[name="name"]`), name),
		chromedp.SendKeys(chromedp.CSS(`form.staff input[name="token"]`), staffToken),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `form.staff button[type="submit"]`)
	if got := eval[string](t, ctx, `document.querySelector('[data-caller]')?.textContent ?? ''`); got != name {
		t.Fatalf("signed in as %q, want %q", got, name)
	}
}

// rowStatus is a row's status and what its status cell says.
func rowStatus(t *testing.T, ctx context.Context, id string) (status, text string) {
	t.Helper()
	status = eval[string](t, ctx, fmt.Sprintf(`document.getElementById('n-%s').dataset.status`, id))
	text = eval[string](t, ctx, fmt.Sprintf(`document.querySelector('#n-%s .status').textContent`, id))
	return status, text
}

func TestBrowserTwoStaffShareTheWorklist(t *testing.T) {
	staff := withStaff(t)
	first, ids := worklistRun(t, staff)
	if len(ids) < 3 {
		t.Fatalf("%d patients on the call list, want 3", len(ids))
	}
	// A second worker on the same NATS, with its own store and page.
	second := startRunWith(t, first.conn, staff)
	waitFor(t, "the second worker's store has the call list", func() bool {
		c, err := second.w.DB.CallCounts(context.Background(), "ukd-calls")
		return err == nil && c.ToCall == len(ids)
	})
	const page = "/outages/ukd-calls/calllist.html"
	anna, ben := browser(t), browser(t)
	if err := chromedp.Do(anna, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ben, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3))); err != nil {
		t.Fatal(err)
	}
	signInBrowser(t, anna, first.srv.URL+page, "Anna Weiß")
	signInBrowser(t, ben, second.srv.URL+page, "Ben Kaya")

	t.Run("a claim is shown to the other, who cannot take the row", func(t *testing.T) {
		submit(t, anna, `#n-`+ids[0]+` button[value="claim"]`)
		if status, text := rowStatus(t, anna, ids[0]); status != "claimed" || !strings.Contains(text, "Being called by Anna Weiß") {
			t.Errorf("Anna's page: %s %q", status, text)
		}
		reloadUntil(t, ben, "Anna is calling", fmt.Sprintf(`document.getElementById('n-%s').dataset.status === 'claimed'`, ids[0]))
		if _, text := rowStatus(t, ben, ids[0]); !strings.Contains(text, "Anna Weiß") {
			t.Errorf("Ben's page says %q", text)
		}
		if n := eval[int](t, ben, fmt.Sprintf(`document.querySelectorAll('#n-%s form').length`, ids[0])); n != 0 {
			t.Errorf("Ben's page offers %d forms on Anna's row", n)
		}
	})
	t.Run("an outcome is shown to the other", func(t *testing.T) {
		submit(t, ben, `#n-`+ids[1]+` button[value="claim"]`)
		submit(t, ben, `#n-`+ids[1]+` button[value="no-answer"]`)
		if status, _ := rowStatus(t, ben, ids[1]); status != "later" {
			t.Errorf("after no answer the row is %s, want later", status)
		}
		reloadUntil(t, anna, "Ben had no answer", fmt.Sprintf(`document.getElementById('n-%s').dataset.status === 'later'`, ids[1]))
		if _, text := rowStatus(t, anna, ids[1]); !strings.Contains(text, "No answer (Ben Kaya") {
			t.Errorf("Anna's page says %q", text)
		}
	})
	t.Run("a row taken meanwhile is refused on the older page", func(t *testing.T) {
		// Ben's page still shows the row free.
		submit(t, anna, `#n-`+ids[2]+` button[value="claim"]`)
		submit(t, ben, `#n-`+ids[2]+` button[value="claim"]`)
		if msg := eval[string](t, ben, `document.querySelector('.message').textContent`); !strings.HasPrefix(msg, "Not recorded: Anna Weiß is calling this patient") {
			t.Errorf("Ben sees %q, want his claim refused", msg)
		}
		if _, text := rowStatus(t, ben, ids[2]); !strings.Contains(text, "Anna Weiß") {
			t.Errorf("Ben's page says %q, want Anna calling", text)
		}
	})
	t.Run("a reached patient goes last and grey on both pages", func(t *testing.T) {
		submit(t, anna, `#n-`+ids[0]+` button[value="reached"]`)
		last := `[...document.querySelectorAll('tbody tr')].at(-1).dataset.notice`
		if got := eval[string](t, anna, last); got != ids[0] {
			t.Errorf("last row %s, want the reached patient %s", got, ids[0])
		}
		reloadUntil(t, ben, "Anna reached the patient", fmt.Sprintf(`%s === '%s'`, last, ids[0]))
		if c := eval[string](t, ben, fmt.Sprintf(`getComputedStyle(document.querySelector('#n-%s td')).color`, ids[0])); c != "rgb(102, 102, 102)" {
			t.Errorf("reached row's text colour %s, want grey", c)
		}
		for name, ctx := range map[string]context.Context{"Anna": anna, "Ben": ben} {
			if n := eval[int](t, ctx, `+document.querySelector('[data-count="reached"]').textContent`); n != 1 {
				t.Errorf("%s's page counts %d reached, want 1", name, n)
			}
		}
	})
	t.Run("on a phone the buttons are big and the page fits", func(t *testing.T) {
		if h := eval[float64](t, ben, `Math.min(...[...document.querySelectorAll('td.call button')].map(b => b.getBoundingClientRect().height))`); h < 44 {
			t.Errorf("smallest button %.0f px high, want at least 44", h)
		}
		if wide := eval[bool](t, ben, `document.documentElement.scrollWidth > window.innerWidth`); wide {
			t.Error("the page is wider than the phone's screen")
		}
		screenshot(t, ben, "worklist-phone.png")
		screenshot(t, anna, "worklist-desktop.png")
	})
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
