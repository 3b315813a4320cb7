package notifier

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// benchRecord is an appointment record as a scheduling system publishes it.
func benchRecord(i int) []byte {
	start := time.Date(2030, 3, 5, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	data, err := json.Marshal(Appointment{
		ID: fmt.Sprintf("A-%d", i), Facility: "ukd", Department: "cardiology", Location: "Building 13, level 2",
		Start: start, End: start.Add(30 * time.Minute), Status: StatusBooked, Kind: "outpatient",
		Patient: Patient{ID: fmt.Sprintf("P-%d", i), Name: "Ayşe Müller", Language: "de",
			Email: fmt.Sprintf("p%d@example.org", i), Phone: "+49 211 5550101"},
	})
	if err != nil {
		panic(err)
	}
	return data
}

// BenchmarkDecodeAppointment is the replica's work per record before the
// store: decoding and validating it.
func BenchmarkDecodeAppointment(b *testing.B) {
	data := benchRecord(4711)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeAppointment(data, "ukd", "A-4711"); err != nil {
			b.Fatal(err)
		}
	}
}

// benchNotice is a planned notice for one patient with two appointments.
func benchNotice() *Notice {
	start := time.Date(2030, 3, 5, 9, 30, 0, 0, time.UTC)
	n := &Notice{Kind: KindPostponed, OutageID: "ukd-2030-03", Facility: "ukd", FacilityName: "Universitätsklinikum Düsseldorf",
		TimeZone: "Europe/Berlin", Language: "de", Hotline: "+49 211 81-04444", InfoURL: "https://example.org/outage",
		Patient:   Patient{ID: "P-4711", Name: "Ayşe Müller", Language: "de", Email: "p4711@example.org"},
		PlannedAt: start.Add(-24 * time.Hour)}
	for i := range 2 {
		n.Appointments = append(n.Appointments, NoticeAppointment{ID: fmt.Sprintf("A-%d", i), Department: "cardiology",
			Location: "Building 13, level 2", Start: start.Add(time.Duration(i) * time.Hour)})
	}
	n.ID = NoticeID(n.OutageID, n.Kind, n.Patient.ID, n.AppointmentIDs())
	return n
}

// benchDelivery is the outcome of n on its first channel.
func benchDelivery(n *Notice) *Delivery {
	return &Delivery{NoticeID: n.ID, OutageID: n.OutageID, Facility: n.Facility, PatientID: n.Patient.ID,
		AppointmentIDs: n.AppointmentIDs(), Kind: n.Kind, Outcome: OutcomeDelivered, Channel: "relay", Attempts: 1,
		At: time.Now(), Trail: []Attempt{{Channel: "relay", At: time.Now(), Result: ResultAccepted}}}
}

// benchPlans is a PLANS message of the records of notices notices, as the
// planner writes it.
func benchPlans(b *testing.B, notices int) []byte {
	data := []byte(`{"notices":[`)
	for i := range notices {
		n := benchNotice()
		n.Patient.ID = fmt.Sprintf("P-%d", i)
		n.ID = NoticeID(n.OutageID, n.Kind, n.Patient.ID, n.AppointmentIDs())
		rec, err := EncodeJSON(PlannedRecord(n))
		if err != nil {
			b.Fatal(err)
		}
		if i > 0 {
			data = append(data, ',')
		}
		data = append(data, rec...)
	}
	return append(data, "]}"...)
}

// BenchmarkNotice is the per-notice work around the channels: the planner
// derives the id and encodes the notice for NOTICES and its record for
// PLANS, the dispatcher decodes it and encodes the outcome for DELIVERIES,
// and every worker's views decode the outcome and the record (plans, a
// message of 100 records).
func BenchmarkNotice(b *testing.B) {
	n := benchNotice()
	b.Run("id", func(b *testing.B) {
		ids := n.AppointmentIDs()
		b.ReportAllocs()
		for b.Loop() {
			NoticeID(n.OutageID, n.Kind, n.Patient.ID, ids)
		}
	})
	data, err := EncodeJSON(n)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeJSON(n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeNotice(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	d := benchDelivery(n)
	b.Run("outcome", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeJSON(d); err != nil {
				b.Fatal(err)
			}
		}
	})
	outcome, err := EncodeJSON(d)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("outcome-decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeDelivery(outcome); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("record", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeJSON(PlannedRecord(n)); err != nil {
				b.Fatal(err)
			}
		}
	})
	plans := benchPlans(b, 100)
	b.Run("plans-decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodePlanRecord(plans); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncodeAppointment is the publishers' work per record: the import
// CLI and the interface engine encode every appointment they publish.
func BenchmarkEncodeAppointment(b *testing.B) {
	a, err := DecodeAppointment(benchRecord(4711), "ukd", "A-4711")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeJSON(&a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNormalize is the check every record gets, in the importers and
// again in the worker's replica.
func BenchmarkNormalize(b *testing.B) {
	a, err := DecodeAppointment(benchRecord(4711), "ukd", "A-4711")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c := a
		if err := c.Normalize(); err != nil {
			b.Fatal(err)
		}
	}
}
