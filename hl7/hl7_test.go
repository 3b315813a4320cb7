package hl7

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

var berlin, _ = time.LoadLocation("Europe/Berlin")

// seg writes a segment from its fields by number.
func seg(name string, fields map[int]string) string {
	n := 0
	for k := range fields {
		n = max(n, k)
	}
	parts := make([]string, n+1)
	parts[0] = name
	for k, v := range fields {
		parts[k] = v
	}
	return strings.Join(parts, "|")
}

// s12 is a SIU^S12 as an interface engine sends it: repetitions in PID-13,
// an escaped separator in the location, a Z-segment.
func s12(trigger, charset string) string {
	msh := `MSH|^~\&|ORBIS|UKD|NOTIFIER|UKD|20201020093000||SIU^` + trigger + `^SIU_S12|MSG00001|P|2.5`
	if charset != "" {
		msh += "||||||" + charset
	}
	return strings.Join([]string{
		msh,
		seg("SCH", map[int]string{1: "A-1001^ORBIS", 2: "F-1001^ORBIS", 6: "ROUTINE^Routine^HL70276", 8: "OUTPATIENT^Outpatient",
			11: "^^30^20201024093000^20201024100000", 25: "BOOKED"}),
		seg("PID", map[int]string{1: "1", 3: "P-77^^^UKD^MR~X-1^^^OTHER", 5: "Müller&Dr.^Jana", 13: `0211 5550101^PRN^PH^^^^^^^^^+492115550101~^NET^Internet^jana.mueller@example.org~^PRN^CP^^^^^^^^^+491701234567`, 15: "de"}),
		seg("AIS", map[int]string{1: "1", 3: "CARD^Kardiologie", 4: "20201024093000"}),
		seg("AIL", map[int]string{1: "1", 3: `Kardiologie^^^UKD^^^Geb\T\13^2^Gebäude 13\F\ Ebene 2`}),
		"ZXY|custom|data",
	}, "\r") + "\r"
}

func TestParseAndMapSIU(t *testing.T) {
	for _, tc := range []struct {
		name    string
		raw     []byte
		trigger string
	}{
		{"UTF-8", []byte(s12("S12", "UNICODE UTF-8")), "S12"},
		{"no charset", []byte(s12("S14", "")), "S14"},
		{"8859/1", func() []byte { b, _ := charmap.ISO8859_1.NewEncoder().Bytes([]byte(s12("S13", "8859/1"))); return b }(), "S13"},
		{"LF line ends", []byte(strings.ReplaceAll(s12("S12", ""), "\r", "\n")), "S12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if typ, trig := m.Type(); typ != "SIU" || trig != tc.trigger {
				t.Errorf("type %s^%s", typ, trig)
			}
			a, err := m.Appointment("ukd", berlin, DefaultMapping())
			if err != nil {
				t.Fatal(err)
			}
			want := time.Date(2020, 10, 24, 9, 30, 0, 0, berlin)
			if a.ID != "F-1001" || !a.Start.Equal(want) || !a.End.Equal(want.Add(30*time.Minute)) || a.Status != "booked" || a.Kind != "outpatient" {
				t.Errorf("appointment %+v", a)
			}
			if a.Department != "Kardiologie" || a.Location != "Gebäude 13| Ebene 2" {
				t.Errorf("department %q location %q", a.Department, a.Location)
			}
			p := a.Patient
			if p.ID != "P-77" || p.Name != "Jana Müller" || p.Language != "de" || p.Email != "jana.mueller@example.org" || p.Phone != "+491701234567" {
				t.Errorf("patient %+v", p)
			}
		})
	}
}

func TestTriggersAndStatus(t *testing.T) {
	for trigger, want := range map[string]string{"S15": "cancelled", "S17": "entered-in-error", "S26": "noshow"} {
		m, err := Parse([]byte(s12(trigger, "")))
		if err != nil {
			t.Fatal(err)
		}
		a, err := m.Appointment("ukd", berlin, DefaultMapping())
		if err != nil || a.Status != want {
			t.Errorf("%s: status %q (%v), want %s", trigger, a.Status, err, want)
		}
	}
	m, _ := Parse([]byte(strings.Replace(s12("S12", ""), "SIU^S12", "ADT^A01", 1)))
	if _, err := m.Appointment("ukd", berlin, DefaultMapping()); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ADT^A01: %v, want unsupported", err)
	}
}

func TestMappingIsConfigurable(t *testing.T) {
	mp := DefaultMapping()
	mp.Department, _ = ParsePath("AIS-3.2")
	mp.Kinds = map[string]string{"outpatient": "elective"}
	m, _ := Parse([]byte(s12("S12", "")))
	a, err := m.Appointment("ukd", berlin, mp)
	if err != nil || a.Department != "Kardiologie" || a.Kind != "elective" {
		t.Errorf("department %q kind %q (%v)", a.Department, a.Kind, err)
	}
}

func TestUnusableMessagesNameTheField(t *testing.T) {
	base := s12("S12", "")
	for name, tc := range map[string]struct{ raw, place string }{
		"no start":          {strings.Replace(strings.Replace(base, "^^30^20201024093000^20201024100000", "", 1), "|20201024093000\r", "|\r", 1), "SCH-11.4"},
		"bad time":          {strings.Replace(base, "^^30^20201024093000", "^^30^tomorrow", 1), "SCH-11.4"},
		"id with a dot":     {strings.Replace(base, "F-1001^ORBIS", "F.1001^ORBIS", 1), "SCH-2.1"},
		"no patient":        {strings.Replace(base, "PID|", "XXX|", 1), "PID"},
		"no patient id":     {strings.Replace(base, "P-77^^^UKD^MR~X-1^^^OTHER", "", 1), "PID-3"},
		"unknown status":    {strings.Replace(base, "|BOOKED", "|MAYBE", 1), "SCH-25"},
		"control character": {strings.Replace(base, "Jana", `Ja\X0A\na`, 1), "PID-5"},
	} {
		m, err := Parse([]byte(tc.raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, err = m.Appointment("ukd", berlin, DefaultMapping())
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Place != tc.place {
			t.Errorf("%s: %v, want an error at %s", name, err, tc.place)
		}
		if err != nil && strings.Contains(err.Error(), "Müller") {
			t.Errorf("%s: the error repeats patient data: %v", name, err)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for name, raw := range map[string]string{
		"not HL7":          "hello",
		"bad separators":   "MSH|^^\\&|a\r",
		"unknown charset":  `MSH|^~\&|||||||SIU^S12|1|P|2.5||||||EBCDIC` + "\r",
		"bad UTF-8":        "MSH|^~\\&|\xff|\r",
		"bad segment name": "MSH|^~\\&|a\rpid|1\r",
	} {
		if _, err := Parse([]byte(raw)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestUnescape(t *testing.T) {
	m, _ := Parse([]byte(`MSH|^~\&|a` + "\r"))
	for in, want := range map[string]string{
		`a\F\b\S\c\T\d\R\e\E\f`: `a|b^c&d~e\f`,
		`Stra\XC39F\e`:          "Straße",
		`Stra\XDF\e`:            "Straße",
		`line\.br\two`:          "line\ntwo",
		`\H\bold\N\`:            "bold",
		`open\F`:                `open\F`,
	} {
		if got := m.Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"20201024093000":      time.Date(2020, 10, 24, 9, 30, 0, 0, berlin),
		"202010240930":        time.Date(2020, 10, 24, 9, 30, 0, 0, berlin),
		"20201024093000.1234": time.Date(2020, 10, 24, 9, 30, 0, 0, berlin),
		"20201024093000+0000": time.Date(2020, 10, 24, 9, 30, 0, 0, time.UTC),
		"202010240930-0500":   time.Date(2020, 10, 24, 14, 30, 0, 0, time.UTC),
	} {
		got, err := ParseTime(in, berlin)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2020", "2020102409300", "20201024093000+99", "20201340093000"} {
		if _, err := ParseTime(in, berlin); err == nil {
			t.Errorf("ParseTime(%q) accepted", in)
		}
	}
}

func TestAck(t *testing.T) {
	m, _ := Parse([]byte(s12("S12", "")))
	now := time.Date(2020, 10, 20, 9, 30, 0, 0, time.UTC)
	code, _, err := AckCode(Ack(m, AA, nil, now))
	if err != nil || code != AA {
		t.Fatalf("AA: %s %v", code, err)
	}
	ae := Ack(m, AE, &FieldError{"SCH-11.4", "no start time"}, now)
	parsed, err := Parse(ae)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Field("MSA", 2) != "MSG00001" || parsed.Field("MSH", 9) != "ACK^S12^ACK" || parsed.Field("MSH", 3) != "NOTIFIER" || parsed.Field("MSH", 5) != "ORBIS" {
		t.Errorf("ACK header:\n%s", ae)
	}
	if parsed.Field("ERR", 2) != "SCH^1^11^1^4" || parsed.Value(Path{Segment: "ERR", Field: 3, Component: 1}) != "101" || !strings.Contains(parsed.Field("MSA", 3), "no start time") {
		t.Errorf("ERR:\n%s", ae)
	}
	ar, _ := Parse(Ack(nil, AR, errors.New("not HL7 | at all"), now))
	if ar.Field("MSA", 1) != AR || !strings.Contains(ar.Unescape(ar.Field("MSA", 3)), "not HL7 | at all") {
		t.Errorf("AR without a message: %+v", ar.Segments)
	}
}

func TestFrames(t *testing.T) {
	var b bytes.Buffer
	WriteFrame(&b, []byte("MSH|one\r"))
	b.WriteString("\r\n")
	WriteFrame(&b, []byte("MSH|two\r"))
	r := bufio.NewReader(&b)
	for _, want := range []string{"MSH|one\r", "MSH|two\r"} {
		got, err := ReadFrame(r, 100)
		if err != nil || string(got) != want {
			t.Errorf("frame %q, %v; want %q", got, err, want)
		}
	}
	big := bytes.Repeat([]byte("x"), 200)
	b.Reset()
	WriteFrame(&b, big)
	if _, err := ReadFrame(bufio.NewReader(&b), 100); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a large frame: %v", err)
	}
	if _, err := ReadFrame(bufio.NewReader(strings.NewReader("junk")), 100); err == nil {
		t.Error("junk before a frame accepted")
	}
	if msgs := SplitFile([]byte(s12("S12", "") + "\n\n" + s12("S15", ""))); len(msgs) != 2 {
		t.Errorf("SplitFile: %d messages, want 2", len(msgs))
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(s12("S12", "")))
	f.Add([]byte(s12("S15", "8859/1")))
	f.Add([]byte(`MSH|^~\&|a|b` + "\rSCH|\\X\\|\\F"))
	f.Add([]byte(a08("A08", nil)))
	f.Add([]byte(a08("A31", map[int]string{5: `""`, 13: `""~^NET^^x@y`, 14: "^^^^+49^^1"})))
	files, _ := filepath.Glob(filepath.Join("testdata", "*.hl7"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, m := range SplitFile(data) {
			f.Add(m)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		if err != nil {
			return
		}
		if m.IsContact() {
			r, err := m.Contact("ukd", berlin)
			if err == nil && r.Patient.ID == "" {
				t.Errorf("a contact record without a patient: %+v", r)
			}
			if err == nil && r.Normalize() != nil {
				t.Errorf("a contact record that does not validate: %+v", r)
			}
			Ack(m, AE, err, time.Now())
			return
		}
		a, err := m.Appointment("ukd", berlin, DefaultMapping())
		if err == nil && (a.ID == "" || a.Start.IsZero() || a.Patient.ID == "") {
			t.Errorf("an appointment without id, start or patient: %+v", a)
		}
		Ack(m, AE, err, time.Now())
	})
}

// TestAckOfUnparseableMessage: a message Parse refuses is answered with its
// control id in MSA-2 whenever its MSH segment can be read, and an ERR
// segment with the reason (the place, when the reason has one).
func TestAckOfUnparseableMessage(t *testing.T) {
	now := time.Date(2020, 10, 20, 9, 30, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		raw                  string
		control, place, code string
	}{
		"unknown charset":    {strings.Replace(s12("S12", "EBCDIC"), "MSG00001", "CTRL-7", 1), "CTRL-7", "MSH^1^18", "102"},
		"bad UTF-8 in PID":   {strings.Replace(s12("S12", "UNICODE UTF-8"), "Jana", "J\xe4na", 1), "MSG00001", "MSH^1^18", "102"},
		"bad segment name":   {strings.Replace(s12("S12", ""), "PID|", "pid|", 1), "MSG00001", "", "207"},
		"Latin-1 in the MSH": {strings.Replace(s12("S12", "ASCII"), "ORBIS|UKD", "ORBIS|K\xf6ln", 1), "MSG00001", "MSH^1^18", "102"},
		"not HL7 at all":     {"hello", "", "", "207"},
	} {
		t.Run(name, func(t *testing.T) {
			_, perr := Parse([]byte(tc.raw))
			if perr == nil {
				t.Fatal("parsed")
			}
			ack, err := Parse(Ack(ParseHeader([]byte(tc.raw)), AE, perr, now))
			if err != nil {
				t.Fatal(err)
			}
			if got := ack.Field("MSA", 2); got != tc.control {
				t.Errorf("MSA-2 %q, want %q", got, tc.control)
			}
			if got := ack.Field("MSA", 1); got != AE {
				t.Errorf("MSA-1 %q, want AE", got)
			}
			if got := ack.Field("ERR", 2); got != tc.place {
				t.Errorf("ERR-2 %q, want %q", got, tc.place)
			}
			errCode := ack.Value(Path{Segment: "ERR", Field: 3, Component: 1})
			reason := ack.Unescape(ack.Value(Path{Segment: "ERR", Field: 3, Component: 2}))
			if errCode != tc.code || reason == "" || !strings.Contains(perr.Error(), reason[:len(reason)/2]) {
				t.Errorf("ERR-3 %q %q, want %s and the reason %q", errCode, reason, tc.code, perr)
			}
		})
	}
}

// TestMappingWithoutSCH11OrAIL: a v2.5 message that leaves out the
// deprecated SCH-11 and has no AIL segment takes its start from AIS-4, its
// end from AIS-7 in the units of AIS-8, and its department from AIS-3.1.
func TestMappingWithoutSCH11OrAIL(t *testing.T) {
	base := strings.Join([]string{
		`MSH|^~\&|KIS|UKD|NOTIFIER|UKD|20201020093000||SIU^S12^SIU_S12|MSG00002|P|2.5`,
		seg("SCH", map[int]string{2: "F-2002^KIS", 8: "OUTPATIENT", 25: "BOOKED"}),
		seg("PID", map[int]string{3: "P-78^^^UKD^MR", 5: "Clarke^Emily"}),
		seg("RGS", map[int]string{1: "1", 2: "A"}),
		seg("AIS", map[int]string{1: "1", 2: "A", 3: "CARD^Cardiology consultation^L", 4: "20201024093000", 7: "DUR", 8: "UNIT"}),
	}, "\r") + "\r"
	start := time.Date(2020, 10, 24, 9, 30, 0, 0, berlin)
	for _, tc := range []struct {
		duration, unit string
		end            time.Time
		place          string
	}{
		{"45", "min^Minutes^ISO+", start.Add(45 * time.Minute), ""},
		{"45", "", start.Add(45 * time.Minute), ""},
		{"1.5", "h", start.Add(90 * time.Minute), ""},
		{"", "", time.Time{}, ""},
		{"soon", "min", time.Time{}, "AIS-7"},
		{"-5", "min", time.Time{}, "AIS-7"},
		{"2", "fortnight", time.Time{}, "AIS-8"},
	} {
		raw := strings.Replace(strings.Replace(base, "|DUR|", "|"+tc.duration+"|", 1), "|UNIT", "|"+tc.unit, 1)
		m, err := Parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		a, err := m.Appointment("ukd", berlin, DefaultMapping())
		var fe *FieldError
		switch {
		case tc.place != "":
			if !errors.As(err, &fe) || fe.Place != tc.place {
				t.Errorf("AIS-7 %q AIS-8 %q: %v, want an error at %s", tc.duration, tc.unit, err, tc.place)
			}
		case err != nil:
			t.Errorf("AIS-7 %q AIS-8 %q: %v", tc.duration, tc.unit, err)
		case !a.Start.Equal(start) || !a.End.Equal(tc.end) || a.Department != "CARD" || a.ID != "F-2002":
			t.Errorf("AIS-7 %q AIS-8 %q: %s %v to %v in %q, want %v to %v in CARD", tc.duration, tc.unit, a.ID, a.Start, a.End, a.Department, start, tc.end)
		}
	}

	// SCH-11.5 and AIL, when given, win.
	m, _ := Parse([]byte(s12("S12", "")))
	m.Segment("AIS").Fields = append(m.Segment("AIS").Fields[:4], "", "", "90", "min")
	a, err := m.Appointment("ukd", berlin, DefaultMapping())
	if err != nil || !a.End.Equal(time.Date(2020, 10, 24, 10, 0, 0, 0, berlin)) || a.Department != "Kardiologie" {
		t.Errorf("with SCH-11.5 and AIL: end %v department %q (%v), want SCH-11.5's and AIL's", a.End, a.Department, err)
	}
}
