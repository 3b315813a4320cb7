package notifier

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// normalizeRef is Normalize as it was before it collected errors lazily and
// checked text in one pass, and before its validators left regular
// expressions and net/mail: the reference the faster one is held to.
func normalizeRef(a *Appointment) error {
	a.ID = strings.TrimSpace(a.ID)
	a.Status = strings.ToLower(strings.TrimSpace(a.Status))
	if a.Status == "" {
		a.Status = StatusBooked
	}
	a.Kind = strings.ToLower(strings.TrimSpace(a.Kind))
	a.Department = strings.TrimSpace(a.Department)
	a.Location = strings.TrimSpace(a.Location)

	errs := []error{
		checkIDRef("facility", a.Facility),
		checkIDRef("id", a.ID),
		checkTextRef("department", a.Department, 200),
		checkTextRef("location", a.Location, 200),
		checkTextRef("kind", a.Kind, 64),
	}
	p := &a.Patient
	p.ID = strings.TrimSpace(p.ID)
	p.Name = strings.TrimSpace(p.Name)
	p.Email = strings.TrimSpace(p.Email)
	p.Phone = strings.TrimSpace(p.Phone)
	p.Language = baseLanguage(p.Language)
	errs = append(errs, checkTextRef("patient.id", p.ID, maxIDLen), checkTextRef("patient.name", p.Name, 200))
	if p.ID == "" {
		errs = append(errs, errors.New("patient.id: required"))
	}
	if p.Language != "" && !languagePattern.MatchString(p.Language) {
		errs = append(errs, errors.New("patient.language: not a language code such as de, en or tr"))
	}
	if p.Email != "" {
		errs = append(errs, checkEmailParsed(p.Email))
	}
	if p.Phone != "" && !(countDigits(p.Phone) >= 3 && phonePattern.MatchString(p.Phone)) {
		errs = append(errs, errors.New("patient.phone: not a phone number"))
	}
	for _, c := range p.Channels {
		if !channelNames[c] {
			errs = append(errs, fmt.Errorf("patient.channels: %q is not one of email, sms", c))
		}
	}
	if a.Start.IsZero() {
		errs = append(errs, errors.New("start: required"))
	}
	if !a.End.IsZero() && a.End.Before(a.Start) {
		errs = append(errs, errors.New("end: before start"))
	}
	if !fhirStatuses[a.Status] {
		errs = append(errs, fmt.Errorf("status: %q is not a FHIR appointment status", a.Status))
	}
	return Invalid(errors.Join(errs...))
}

func checkIDRef(field, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s: required", field)
	case len(s) > maxIDLen:
		return fmt.Errorf("%s: longer than %d characters", field, maxIDLen)
	case !idPattern.MatchString(s):
		return fmt.Errorf("%s: %q is not of the form [A-Za-z0-9_-]+", field, s)
	}
	return nil
}

func checkTextRef(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s: not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("%s: %d characters, at most %d allowed", field, n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s: contains a control character (%U)", field, r)
		}
	}
	if i := hiddenRuneRef(s); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Errorf("%s: contains an invisible formatting character (%U)", field, r)
	}
	return nil
}

func hiddenRuneRef(s string) int {
	return strings.IndexFunc(s, func(r rune) bool {
		return (r >= 0x200B && r <= 0x200F) || (r >= 0x202A && r <= 0x202E) ||
			(r >= 0x2066 && r <= 0x2069) || r == 0xFEFF
	})
}

// checkNormalizeSame fails unless Normalize and normalizeRef leave the same
// appointment and return the same error.
func checkNormalizeSame(t *testing.T, a Appointment) {
	t.Helper()
	got, want := a, a
	gotErr, wantErr := got.Normalize(), normalizeRef(&want)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || errors.Is(gotErr, ErrInvalid) != errors.Is(wantErr, ErrInvalid) {
		t.Errorf("Normalize(%+v) = %v, want %v", a, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Normalize(%+v):\ngot  %+v\nwant %+v", a, got, want)
	}
	for _, s := range []string{a.Department, a.Patient.Name, a.Patient.Email} {
		if got, want := checkText("f", s, 8), checkTextRef("f", s, 8); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("checkText(%q, 8) = %v, want %v", s, got, want)
		}
	}
}

// normalizePieces are what generated fields are made of: ASCII and other
// letters, spaces, every kind of control character, the invisible
// characters and their neighbours, broken UTF-8 and text near the limits.
var normalizePieces = []string{
	"", " ", "  ", "a", "Z", "cardiology", "CARDIOLOGY", "Building 13, level 2", "Elective", "booked", "BOOKED",
	"checked-in", "Checked-In", "postponed", "de", "DE-de", "tr_TR", "Deutsch", "ö", "ß", "İ", "ı", "K", "Jürgen Müller",
	"p4711@example.org", "jana.mueller@example.org", "Jana <a@b>", "a b@c", "j@exämple.de", "+49 211 5550101", "call me",
	"A-1", "A.1", "P-7", "email", "sms", "fax",
	"\t", "\n", "\r\n", "\x00", "\x1f", "\x7f", "\u0080", "\u0085", "\u009f", "\u00a0", "\u00ad", "\u2028",
	"\u200a", "\u200b", "\u200f", "\u2010", "\u2029", "\u202a", "\u202e", "\u202f", "\u2065", "\u2066", "\u2069", "\u206a",
	"\ufeff", "\ufeff ", "\ufffd", "\ufffe", "\U0001F600", "\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	strings.Repeat("a", 64), strings.Repeat("ö", 65), strings.Repeat("x", 127), strings.Repeat("ä", 199),
	strings.Repeat("b", 201),
}

// normalizeInputs are appointments made of normalizePieces, some with times
// and channels.
func normalizeInputs() []Appointment {
	start := time.Date(2030, 3, 5, 9, 30, 0, 0, time.UTC)
	in := []Appointment{
		{},
		{ID: "A-1", Facility: "ukd", Start: start, Patient: Patient{ID: "P-1"}},
		{ID: " A-1 ", Facility: "ukd", Department: " cardiology ", Location: "Building 13, level 2", Start: start,
			End: start.Add(time.Hour), Status: " Booked ", Kind: "Outpatient", Patient: Patient{ID: " P-1 ", Name: " Jürgen ",
				Language: "DE-de", Email: " p1@example.org ", Phone: " +49 211 5550101 ", Channels: []string{"sms", "email"}}},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	text := func() string {
		var b strings.Builder
		for range rng.IntN(4) {
			b.WriteString(normalizePieces[rng.IntN(len(normalizePieces))])
		}
		return b.String()
	}
	good := in[2]
	for i := range 6000 {
		a := good
		// Mostly one field changed, as in a broken row; sometimes all.
		fields := []*string{&a.ID, &a.Facility, &a.Department, &a.Location, &a.Status, &a.Kind,
			&a.Patient.ID, &a.Patient.Name, &a.Patient.Language, &a.Patient.Email, &a.Patient.Phone}
		if i%4 == 0 {
			for _, f := range fields {
				*f = text()
			}
		} else {
			*fields[rng.IntN(len(fields))] = text()
		}
		switch rng.IntN(6) {
		case 0:
			a.Start = time.Time{}
		case 1:
			a.End = time.Time{}
		case 2:
			a.End = a.Start.Add(-time.Minute)
		case 3:
			a.Patient.Channels = []string{text()}
		}
		in = append(in, a)
	}
	return in
}

func TestNormalizeSame(t *testing.T) {
	for _, a := range normalizeInputs() {
		checkNormalizeSame(t, a)
	}
}

// FuzzNormalize holds Normalize to normalizeRef.
func FuzzNormalize(f *testing.F) {
	for _, a := range normalizeInputs()[:300] {
		p := a.Patient
		var start, end int64
		if !a.Start.IsZero() {
			start = a.Start.Unix()
		}
		if !a.End.IsZero() {
			end = a.End.Unix()
		}
		f.Add(a.ID, a.Facility, a.Department, a.Location, a.Status, a.Kind,
			p.ID, p.Name, p.Language, p.Email, p.Phone, strings.Join(p.Channels, ","), start, end)
	}
	f.Fuzz(func(t *testing.T, id, facility, department, location, status, kind,
		patientID, name, language, email, phone, channels string, start, end int64) {
		a := Appointment{ID: id, Facility: facility, Department: department, Location: location,
			Status: status, Kind: kind, Patient: Patient{ID: patientID, Name: name, Language: language,
				Email: email, Phone: phone}}
		if start != 0 {
			a.Start = time.Unix(start, 0).UTC()
		}
		if end != 0 {
			a.End = time.Unix(end, 0).UTC()
		}
		if channels != "" {
			a.Patient.Channels = strings.Split(channels, ",")
		}
		checkNormalizeSame(t, a)
	})
}
