package notifier

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
)

// MaxRecordSize is the largest appointment record accepted, in bytes.
const MaxRecordSize = 16 << 10

// Appointment is one appointment as the scheduling system publishes it on
// appointments.<facility>.<id>. The latest record per subject wins.
type Appointment struct {
	ID         string    `json:"id"`
	Facility   string    `json:"facility"`
	Department string    `json:"department,omitempty"`
	Location   string    `json:"location,omitempty"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end,omitzero"`
	Status     string    `json:"status"`
	Kind       string    `json:"kind,omitempty"`
	Patient    Patient   `json:"patient"`
}

// Patient is the person to tell. Only Name, Language and the contact data
// reach a notice; nothing clinical is ever kept.
type Patient struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Language string `json:"language,omitempty"`
	Email    string `json:"email,omitempty"`
	Phone    string `json:"phone,omitempty"`
	// Channels is the patient's own order of preference ("email", "sms"),
	// optional.
	Channels []string `json:"channels,omitempty"`
}

// Appointment statuses are FHIR R4 Appointment.status codes.
const (
	StatusBooked    = "booked"
	StatusPending   = "pending"
	StatusArrived   = "arrived"
	StatusCheckedIn = "checked-in"
)

// fhirStatuses lists every FHIR R4 Appointment.status code.
var fhirStatuses = map[string]bool{
	"proposed": true, "pending": true, "booked": true, "arrived": true,
	"fulfilled": true, "cancelled": true, "noshow": true,
	"entered-in-error": true, "checked-in": true, "waitlist": true,
}

// ActiveStatuses are the statuses of appointments an outage can affect.
var ActiveStatuses = []string{StatusBooked, StatusPending, StatusArrived, StatusCheckedIn}

// Active reports whether an outage can affect the appointment.
func (a *Appointment) Active() bool {
	for _, s := range ActiveStatuses {
		if a.Status == s {
			return true
		}
	}
	return false
}

var channelNames = map[string]bool{"email": true, "sms": true}

// DecodeAppointment decodes and validates an appointment record received on
// the subject appointments.<facility>.<id>. The subject's tokens must agree
// with the record. Errors wrap ErrInvalid.
func DecodeAppointment(data []byte, facility, id string) (Appointment, error) {
	a, err := decodeAppointment(data)
	if err != nil {
		return a, err
	}
	// The tokens are compared with the record as normalized, so that a
	// record can never land under an id other than its subject's.
	if err := a.Normalize(); err != nil {
		return a, err
	}
	if a.Facility != facility {
		return a, Invalid(fmt.Errorf("facility: %q does not match the subject's facility %q", a.Facility, facility))
	}
	if a.ID != id {
		return a, Invalid(fmt.Errorf("id: %q does not match the subject's id %q", a.ID, id))
	}
	return a, nil
}

// decodeAppointment decodes an appointment record as decodeRecord does,
// the common shape without encoding/json.
func decodeAppointment(data []byte) (Appointment, error) {
	if len(data) <= MaxRecordSize {
		if a, ok := parseAppointment(data); ok {
			return a, nil
		}
	}
	var a Appointment
	err := decodeRecord(data, "appointment", &a)
	return a, err
}

// decodeRecord decodes a record of at most MaxRecordSize bytes whose
// members are unique. Errors wrap ErrInvalid.
func decodeRecord(data []byte, what string, v any) error {
	if len(data) > MaxRecordSize {
		return Invalid(fmt.Errorf("record is %d bytes, at most %d allowed", len(data), MaxRecordSize))
	}
	if err := uniqueKeys(data); err != nil {
		return Invalid(fmt.Errorf("not a JSON %s record: %w", what, err))
	}
	if err := json.Unmarshal(data, v); err != nil {
		return Invalid(fmt.Errorf("not a JSON %s record: %w", what, JSONError(err)))
	}
	return nil
}

// Normalize fills defaults (an empty status is "booked"; languages are
// lower-cased base tags) and validates every field. Errors wrap ErrInvalid
// and name the field, never its value when it is patient data.
func (a *Appointment) Normalize() error {
	a.ID = strings.TrimSpace(a.ID)
	a.Status = strings.ToLower(strings.TrimSpace(a.Status))
	if a.Status == "" {
		a.Status = StatusBooked
	}
	a.Kind = strings.ToLower(strings.TrimSpace(a.Kind))
	a.Department = strings.TrimSpace(a.Department)
	a.Location = strings.TrimSpace(a.Location)

	// Errors are collected only when there are any: most records have none.
	var errs []error
	errs = appendErr(errs, checkID("facility", a.Facility))
	errs = appendErr(errs, checkID("id", a.ID))
	errs = appendErr(errs, checkText("department", a.Department, 200))
	errs = appendErr(errs, checkText("location", a.Location, 200))
	errs = appendErr(errs, checkText("kind", a.Kind, 64))
	errs = append(errs, a.Patient.normalize()...)
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

// normalize trims and lower-cases the patient's fields as Normalize does
// and returns what is wrong with them, each error naming its field.
func (p *Patient) normalize() []error {
	p.ID = strings.TrimSpace(p.ID)
	p.Name = strings.TrimSpace(p.Name)
	p.Email = strings.TrimSpace(p.Email)
	p.Phone = strings.TrimSpace(p.Phone)
	p.Language = baseLanguage(p.Language)
	errs := appendErr(nil, checkText("patient.id", p.ID, maxIDLen))
	errs = appendErr(errs, checkText("patient.name", p.Name, 200))
	if p.ID == "" {
		errs = append(errs, errors.New("patient.id: required"))
	}
	if p.Language != "" && !validLanguage(p.Language) {
		errs = append(errs, errors.New("patient.language: not a language code such as de, en or tr"))
	}
	if p.Email != "" {
		errs = appendErr(errs, checkEmail(p.Email))
	}
	if p.Phone != "" && !validPhone(p.Phone) {
		errs = append(errs, errors.New("patient.phone: not a phone number"))
	}
	for _, c := range p.Channels {
		if !channelNames[c] {
			errs = append(errs, fmt.Errorf("patient.channels: %q is not one of email, sms", c))
		}
	}
	return errs
}

// appendErr appends err to errs unless it is nil; errors.Join would drop it
// anyway.
func appendErr(errs []error, err error) []error {
	if err != nil {
		errs = append(errs, err)
	}
	return errs
}

// validPhone accepts what people write as a phone number: digits (at least
// three), spaces and ( ) . / - separators, 3 to 32 of them after an
// optional leading +.
func validPhone(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if len(s) < 3 || len(s) > 32 {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			digits++
		case ' ', '(', ')', '.', '/', '-':
		default:
			return false
		}
	}
	return digits >= 3
}

// validLanguage reports whether s is of the form [a-z]{2,3}, a language
// code such as de, en or tr.
func validLanguage(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// maxLocalPart is RFC 5321's limit on the part of an address before the @.
const maxLocalPart = 64

// checkEmail accepts a bare addr-spec (no display name, no comments) of
// printable ASCII or UTF-8 without spaces or control characters, with a
// local part of at most 64 octets. "%" and "!" are ordinary characters of a
// local part: the relay receives the address as written, and no source
// route is ever followed by the worker. Address literals (x@[192.0.2.1])
// pass here; a facility admits them only when configured to (see Admit).
func checkEmail(s string) error {
	if !dotAtomAddress(s) && !parsesPlain(s) {
		return errors.New("patient.email: not a plain e-mail address")
	}
	if at := strings.IndexByte(s, '@'); at > maxLocalPart {
		return fmt.Errorf("patient.email: the part before the @ is %d octets, at most %d allowed", at, maxLocalPart)
	}
	return nil
}

// parsesPlain reports whether net/mail parses s as a bare addr-spec that is
// s itself, free of spaces, controls and invisible characters.
func parsesPlain(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n\x00<>,;\"") || strings.ContainsFunc(s, unicode.IsControl) || strings.ContainsFunc(s, isHidden) {
		return false
	}
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Name == "" && addr.Address == s && strings.Count(s, "@") == 1
}

// dotAtomAddress reports whether s is at most 254 octets of an ASCII
// dot-atom, one @ and a domain of dot-separated labels of letters, digits
// and hyphens: the common address, which parsesPlain accepts too, decided
// without parsing it.
func dotAtomAddress(s string) bool {
	if len(s) > 254 {
		return false
	}
	at := strings.IndexByte(s, '@')
	return at >= 0 && dotAtoms(s[:at], atextChar) && dotAtoms(s[at+1:], labelChar)
}

// Classes of addrChars.
const (
	atextChar = 1 << iota // RFC 5322 atext, ASCII only
	labelChar             // a letter, digit or hyphen
)

// addrChars classifies the bytes of an address for dotAtoms.
var addrChars = func() (t [256]uint8) {
	for c := '0'; c <= 'z'; c++ {
		if '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' {
			t[c] = atextChar | labelChar
		}
	}
	for _, c := range "!#$%&'*+/=?^_`{|}~" {
		t[c] = atextChar
	}
	t['-'] = atextChar | labelChar
	return t
}()

// dotAtoms reports whether s is one or more runs of bytes of class, joined
// by single dots.
func dotAtoms(s string, class uint8) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' {
			if s[i-1] == '.' {
				return false
			}
		} else if addrChars[c]&class == 0 {
			return false
		}
	}
	return true
}

// AddressLiteral reports whether an e-mail address names a host by its IP
// address (x@[192.0.2.1]) rather than by a domain.
func AddressLiteral(email string) bool {
	at := strings.LastIndexByte(email, '@')
	return at >= 0 && strings.HasPrefix(email[at+1:], "[")
}

// Admit applies the facility's own rules to a valid appointment: an e-mail
// address literal, which sends the notice to whatever host it names instead
// of the patient's mail provider, is refused unless the facility allows it.
// Errors wrap ErrInvalid.
func (f Facility) Admit(a *Appointment) error {
	return f.admitEmail(a.Patient.Email)
}

func (f Facility) admitEmail(email string) error {
	if AddressLiteral(email) && !f.AllowAddressLiterals {
		return Invalid(fmt.Errorf("patient.email: an address literal (x@[192.0.2.1]) is not accepted; facilities.%s.allow_address_literals allows it", f.ID))
	}
	return nil
}

// baseLanguage turns "de-DE" or "DE" into "de".
func baseLanguage(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// jsonError keeps a decoding error short and free of the input's content.
func JSONError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tim *time.ParseError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: wrong type %s, want %s", typ.Field, typ.Value, typ.Type)
	case errors.As(err, &tim):
		return errors.New("a time is not RFC 3339 with an offset")
	}
	return err
}
