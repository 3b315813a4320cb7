package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/postponement/notifier/importer"
)

// TestAddressLiterals: an e-mail address that names a host by its IP
// address is refused by the import and by the worker's replica, unless the
// facility allows such addresses.
func TestAddressLiterals(t *testing.T) {
	e := newEnv(t)
	allowing := e.cfg.Facilities["ukd"]
	allowing.AllowAddressLiterals = true
	e.cfg.Facilities["lab"] = allowing
	e.startWorker()
	ctx := context.Background()

	e.publishRaw("appointments.ukd.A-1", `{"id":"A-1","facility":"ukd","start":"2030-01-10T09:00:00Z","patient":{"id":"P-1","email":"jana@[127.0.0.1]"}}`)
	e.publishRaw("appointments.lab.A-2", `{"id":"A-2","facility":"lab","start":"2030-01-10T09:00:00Z","patient":{"id":"P-2","email":"jana@[127.0.0.1]"}}`)
	waitUntil(t, "both records applied or refused", func() bool {
		rejects, _ := e.w.DB.Rejects(ctx)
		n, _ := e.w.DB.CountAppointments(ctx, "lab")
		return len(rejects) == 1 && n == 1
	})
	rejects, _ := e.w.DB.Rejects(ctx)
	if len(rejects) != 1 || rejects[0].Subject != "appointments.ukd.A-1" || !strings.Contains(rejects[0].Reason, "address literal") {
		t.Fatalf("rejects = %+v, want appointments.ukd.A-1 refused for its address literal", rejects)
	}

	loc, _ := time.LoadLocation("Europe/Berlin")
	csv := "id,patient_id,start,email\nA-3,P-3,2030-01-10 09:00,jana@[127.0.0.1]\nA-4,P-4,2030-01-10 09:00,jana@example.org\n"
	rows, err := importer.NewCSV(strings.NewReader(csv), "ukd", loc)
	if err != nil {
		t.Fatal(err)
	}
	var refused []string
	res, err := Import(ctx, e.conn.JS, AdmitRows(rows, e.cfg.FacilityMap()["ukd"]), func(line int, err error) {
		refused = append(refused, err.Error())
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || len(refused) != 1 || !strings.Contains(refused[0], "line 2") || !strings.Contains(refused[0], "allow_address_literals") {
		t.Errorf("import: %+v, refused %q; want line 2 refused for its address literal", res, refused)
	}
}
