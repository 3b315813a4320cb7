package app

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/postponement/notifier/calllist"
	"github.com/postponement/notifier/config"
	"github.com/postponement/notifier/engine"
	"github.com/postponement/notifier/notifier"
	"github.com/postponement/notifier/store"
	"github.com/postponement/notifier/web"
)

// CallList writes every outage's call list (CSV and printable HTML) into a
// folder, from the store. It satisfies engine.CallList.
type CallList struct {
	DB         *store.DB
	Dir        string
	Facilities map[string]notifier.Facility
	Policy     notifier.Policy
	Now        func() time.Time
}

var _ engine.CallList = (*CallList)(nil)

// NewCallList returns the call list the configuration describes.
func NewCallList(cfg *config.Config, db *store.DB) *CallList {
	return &CallList{DB: db, Dir: cfg.CallListDir(), Facilities: cfg.FacilityMap(), Policy: cfg.Policy(), Now: time.Now}
}

// Refresh rewrites the outage's files.
func (c *CallList) Refresh(ctx context.Context, outageID string) error {
	o, rows, err := c.Rows(ctx, outageID)
	if err != nil {
		return err
	}
	_, _, err = calllist.Publish(c.Dir, o, rows, c.Now())
	return err
}

// Rows reads an outage's call list from the store.
func (c *CallList) Rows(ctx context.Context, outageID string) (calllist.Outage, []calllist.Row, error) {
	data, _, ok, err := c.DB.Outage(ctx, outageID)
	if err != nil {
		return calllist.Outage{}, nil, err
	}
	if !ok {
		return calllist.Outage{}, nil, fmt.Errorf("outage %q is unknown", outageID)
	}
	fac := c.Facilities[data.Facility]
	loc, err := fac.Location()
	if err != nil {
		loc = time.UTC
	}
	o := calllist.Outage{ID: outageID, Facility: data.Facility, FacilityName: fac.Name, Hotline: data.Hotline,
		From: data.From, Until: data.Until, TimeZone: loc}
	entries, err := c.DB.CallEntries(ctx, outageID)
	if err != nil {
		return o, nil, err
	}
	now := c.Now()
	rows := make([]calllist.Row, len(entries))
	for i, e := range entries {
		r := calllist.Row{NoticeID: e.NoticeID, PatientID: e.PatientID, Name: e.Name, Phone: e.Phone,
			Language: e.Language, Reasons: e.Trail, AddedAt: e.AddedAt,
			Call: e.Call, Status: e.Call.Status(now), CallSeq: e.CallSeq}
		for _, a := range e.Appointments {
			r.Appointments = append(r.Appointments, calllist.Appointment{ID: a.ID, Department: a.Department, Location: a.Location, Start: a.Start})
		}
		if len(e.Appointments) > 0 {
			r.Urgent = c.Policy.Urgent(e.Appointments[0].Start, now)
		}
		rows[i] = r
	}
	return o, rows, nil
}

// ReadStaffTokens reads calllist.staff_token_file: one token per line,
// blank lines and lines starting with # skipped, each at least
// web.MinStaffTokenLen characters.
func ReadStaffTokens(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tokens []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) < web.MinStaffTokenLen {
			return nil, fmt.Errorf("%s:%d: the token is shorter than %d characters", path, i+1, web.MinStaffTokenLen)
		}
		tokens = append(tokens, line)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%s holds no token", path)
	}
	return tokens, nil
}

// newStaff is who may work the call list, from calllist.staff_token_file;
// nobody when it is not set.
func newStaff(cfg *config.Config) (*web.Staff, error) {
	if cfg.CallList.StaffTokenFile == "" {
		return nil, nil
	}
	tokens, err := ReadStaffTokens(cfg.CallList.StaffTokenFile)
	if err != nil {
		return nil, fmt.Errorf("calllist.staff_token_file: %w", err)
	}
	return web.NewStaff(tokens, nil), nil
}
