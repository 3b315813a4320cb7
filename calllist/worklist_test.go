package calllist

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/notifier"
)

// workedRows are the sample rows as staff have worked them: Erika is being
// called by Anna, Ayşe did not answer and is to be tried again, Jan was
// reached.
func workedRows(t *testing.T) []Row {
	t.Helper()
	rows := sampleRows(t)
	now := sampleGenerated(t)
	rows[0].Call = notifier.CallState{ClaimedBy: "Anna Weiß", ClaimedUntil: now.Add(10 * time.Minute)}
	rows[0].Status, rows[0].CallSeq = notifier.CallClaimed, 7
	rows[1].Call = notifier.CallState{Attempts: 1, Outcome: notifier.CallNoAnswer, OutcomeBy: "Ben Kaya", OutcomeAt: now.Add(-time.Minute), NextTry: now.Add(time.Hour)}
	rows[1].Status, rows[1].CallSeq = notifier.CallLater, 8
	rows[2].Call = notifier.CallState{Outcome: notifier.CallReached, OutcomeBy: "Ben Kaya", OutcomeAt: now.Add(-2 * time.Minute), Final: notifier.CallReached}
	rows[2].Status, rows[2].CallSeq = notifier.CallReached, 9
	return rows
}

func worklist(t *testing.T, live Worklist) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteWorklist(&b, sampleOutage(t), workedRows(t), sampleGenerated(t), live); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// rowHTML is the table row of a notice.
func rowHTML(t *testing.T, page, noticeID string) string {
	t.Helper()
	i := strings.Index(page, `<tr id="n-`+noticeID+`"`)
	if i < 0 {
		t.Fatalf("no row for %s", noticeID)
	}
	return page[i : i+strings.Index(page[i:], "</tr>")]
}

func TestWriteWorklist(t *testing.T) {
	live := Worklist{Action: "/outages/x/calls", Login: "/calllist/login", Logout: "/calllist/logout", Next: "/outages/x/calllist.html", Caller: "Ben Kaya"}
	page := worklist(t, live)
	t.Run("the header counts the rows by status", func(t *testing.T) {
		for _, want := range []string{`<span data-count="to-call">0</span>`, `<span data-count="later">1</span>`,
			`<span data-count="claimed">1</span>`, `<span data-count="reached">1</span>`, `<span data-count="unreachable">0</span>`} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %s", want)
			}
		}
	})
	t.Run("work left comes first, finished work last and greyed", func(t *testing.T) {
		erika, ayse, jan := strings.Index(page, `id="n-n-erika"`), strings.Index(page, `id="n-n-ayse"`), strings.Index(page, `id="n-n-jan"`)
		if !(erika < ayse && ayse < jan) {
			t.Errorf("rows at %d, %d, %d: want being called, then later, then reached", erika, ayse, jan)
		}
		if !strings.Contains(rowHTML(t, page, "n-jan"), `class="reached finished`) {
			t.Error("the reached row is not marked finished")
		}
	})
	t.Run("a row somebody else is calling offers nothing", func(t *testing.T) {
		r := rowHTML(t, page, "n-erika")
		if strings.Contains(r, "<form") || !strings.Contains(r, "Being called by Anna Weiß until Mon 2024-03-04 06:40") {
			t.Errorf("row %s", r)
		}
	})
	t.Run("a free row offers the claim and the outcomes, with the state it was made on", func(t *testing.T) {
		r := rowHTML(t, page, "n-ayse")
		for _, want := range []string{`name="action" value="claim"`, `name="outcome" value="no-answer"`, `name="outcome" value="wrong-number"`,
			`name="seen" value="8"`, `name="notice_id" value="n-ayse"`, "No answer (Ben Kaya, Mon 2024-03-04 06:29); try again from Mon 2024-03-04 07:30, 1 unsuccessful call"} {
			if !strings.Contains(r, want) {
				t.Errorf("row lacks %s:\n%s", want, r)
			}
		}
	})
	t.Run("the holder may release the row", func(t *testing.T) {
		live := live
		live.Caller = "anna weiß"
		if r := rowHTML(t, worklist(t, live), "n-erika"); !strings.Contains(r, `value="release"`) || strings.Contains(r, `value="claim"`) {
			t.Errorf("row %s", r)
		}
	})
	t.Run("without signing in, a sign-in form and no row forms", func(t *testing.T) {
		live := live
		live.Caller = ""
		page := worklist(t, live)
		if !strings.Contains(page, `action="/calllist/login"`) || strings.Contains(page, `name="notice_id"`) {
			t.Error("want the sign-in form and no row forms")
		}
	})
	t.Run("with writes off, the reason and no form", func(t *testing.T) {
		live := live
		live.Off = "Writes are off."
		page := worklist(t, live)
		if !strings.Contains(page, "Writes are off.") || strings.Contains(page, "<form") {
			t.Error("want the reason and no forms")
		}
	})
	t.Run("the files have the status and no forms", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteHTML(&b, sampleOutage(t), workedRows(t), sampleGenerated(t)); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "<form") || !strings.Contains(b.String(), "Reached (Ben Kaya, Mon 2024-03-04 06:28)") {
			t.Error("want statuses and no forms in the file")
		}
	})
	t.Run("the CSV has the calls", func(t *testing.T) {
		records := readCSV(t, sampleOutage(t), workedRows(t))
		got := records[1][9:17]
		want := []string{"claimed", "Anna Weiß", "2024-03-04 06:40", "0", "", "", "", ""}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("call columns %q, want %q", got, want)
		}
	})
}
