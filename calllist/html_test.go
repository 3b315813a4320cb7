package calllist

import (
	"bytes"
	"html/template"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postponement/notifier/notifier"
)

func TestWriteHTMLGolden(t *testing.T) {
	cases := []struct {
		name string
		rows []Row
	}{
		{"calllist", sampleRows(t)},
		{"empty", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := renderHTML(t, sampleOutage(t), c.rows)
			checkGolden(t, filepath.Join("testdata", c.name+".html.golden"), got)
		})
	}
}

func TestWriteHTML(t *testing.T) {
	t.Run("the title names facility, outage, window, time of generation and count", func(t *testing.T) {
		got := renderHTML(t, sampleOutage(t), sampleRows(t))
		for _, want := range []string{
			"<title>Call list – Universitätsklinikum Nord – outage 2024-03-cyber-1</title>",
			"<dd>Sun 2024-03-03 23:00 – Wed 2024-03-06 18:00</dd>",
			"<dd>Mon 2024-03-04 06:30</dd>",
			"<dd>Europe/Berlin</dd>",
			"<dd>3 patients, 2 urgent</dd>",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	})
	t.Run("rows are in call order", func(t *testing.T) {
		got := renderHTML(t, sampleOutage(t), sampleRows(t))
		jan, ayse, erika := strings.Index(got, "Jan Kowalski"), strings.Index(got, "Ayşe Yılmaz"), strings.Index(got, "Erika Mustermann")
		if !(jan < ayse && ayse < erika) {
			t.Errorf("got Jan at %d, Ayşe at %d, Erika at %d; want them in that order", jan, ayse, erika)
		}
	})
	t.Run("urgent rows say URGENT in words, so it prints in black and white", func(t *testing.T) {
		got := renderHTML(t, sampleOutage(t), sampleRows(t))
		if n := strings.Count(got, `<span class="flag">URGENT</span>`); n != 2 {
			t.Errorf("got %d URGENT marks, want 2", n)
		}
	})
	t.Run("an empty list says there is nobody to call", func(t *testing.T) {
		got := renderHTML(t, sampleOutage(t), nil)
		if !strings.Contains(got, "Nobody to call.") {
			t.Error("page does not say nobody to call")
		}
		if strings.Contains(got, "<table") {
			t.Error("page has a table, want none")
		}
		if !strings.Contains(got, "<dd>0 patients</dd>") {
			t.Error("page does not count 0 patients")
		}
	})
	t.Run("every field is escaped", func(t *testing.T) {
		o := sampleOutage(t)
		o.ID = "<script>id</script>"
		o.FacilityName = "<script>facility</script>"
		o.Hotline = "<script>hotline</script>"
		rows := sampleRows(t)[:1]
		rows[0].Name = "<script>alert('name')</script>"
		rows[0].PatientID = `"><script>patient</script>`
		rows[0].NoticeID = "<b>notice</b>"
		rows[0].Phone = `+49"><script>phone</script>`
		rows[0].Language = "<i>de</i>"
		rows[0].Appointments[0].Department = "<img src=x onerror=alert(1)>"
		rows[0].Appointments[0].Location = "</td><script>location</script>"
		rows[0].Reasons = []notifier.Attempt{{Channel: "<script>channel</script>", Result: "failed", Reason: "<script>alert('reason')</script>"}}
		got := renderHTML(t, o, rows)
		for _, bad := range []string{"<script", "<img", "<b>", "<i>"} {
			if strings.Contains(got, bad) {
				t.Errorf("page holds %q unescaped", bad)
			}
		}
		for _, want := range []string{
			"&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;",
			"&lt;script&gt;alert(&#39;reason&#39;)&lt;/script&gt;",
			"&lt;script&gt;facility&lt;/script&gt;",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("page lacks the escaped %q", want)
			}
		}
	})
	t.Run("holds no JavaScript", func(t *testing.T) {
		got := strings.ToLower(renderHTML(t, sampleOutage(t), sampleRows(t)))
		for _, bad := range []string{"<script", "javascript:", " onclick", " onload"} {
			if strings.Contains(got, bad) {
				t.Errorf("page holds %q", bad)
			}
		}
	})
	t.Run("prints and reads on a phone", func(t *testing.T) {
		got := renderHTML(t, sampleOutage(t), sampleRows(t))
		for _, want := range []string{
			`<meta name="viewport" content="width=device-width, initial-scale=1">`,
			".scroll { overflow-x: auto;",
			"@media print",
			"background: transparent !important",
			"thead { display: table-header-group; }",
			"page-break-inside: avoid",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	})
	t.Run("requires a time zone", func(t *testing.T) {
		o := sampleOutage(t)
		o.TimeZone = nil
		var b bytes.Buffer
		if err := WriteHTML(&b, o, sampleRows(t), sampleGenerated(t)); err == nil {
			t.Error("got no error, want one")
		}
	})
}

func TestWindow(t *testing.T) {
	o := sampleOutage(t)
	cases := []struct {
		name        string
		from, until bool
		want        string
	}{
		{"both bounds", true, true, "Sun 2024-03-03 23:00 – Wed 2024-03-06 18:00"},
		{"open end", true, false, "from Sun 2024-03-03 23:00, until further notice"},
		{"end only", false, true, "until Wed 2024-03-06 18:00"},
		{"no bounds", false, false, "not given"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := Outage{TimeZone: o.TimeZone}
			if c.from {
				w.From = o.From
			}
			if c.until {
				w.Until = o.Until
			}
			if got := window(w); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestTelURL(t *testing.T) {
	cases := []struct {
		phone string
		want  template.URL
	}{
		{"+49 30 1234567", "tel:+49301234567"},
		{"+49 (0)30 123-4567", "tel:+49301234567"},
		{"0151 / 234.5678", "tel:01512345678"},
		{"+49 30 1234 ext. 5", ""},
		{"49+30", ""},
		{`+49"><script>`, ""},
		{"12", ""},
		{"", ""},
	}
	for _, c := range cases {
		t.Run(c.phone, func(t *testing.T) {
			if got := telURL(c.phone); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// renderHTML writes rows with WriteHTML at the sample time of generation.
func renderHTML(t *testing.T, o Outage, rows []Row) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, o, rows, sampleGenerated(t)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
