package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// note is a line for Skipped, placed by its entry (0 for the bundle).
type note struct {
	entry int
	text  string
}

// bundle indexes the entries of a bundle so that references resolve in any
// order.
type bundle struct {
	entries      []entry
	byURL        map[string]*entry   // by fullUrl
	byTypeID     map[string]*entry   // by "Patient/123"
	byIdentifier map[string][]*entry // Patients by identifier value
	notes        []note
}

// entry is one entry of the bundle.
type entry struct {
	n       int // position in Bundle.entry, from 1
	fullURL string
	res     fhirResource
	raw     json.RawMessage
	err     error // why the entry is not read; it is noted
	used    bool  // an appointment refers to it
}

// indexBundle indexes the entries and notes those it cannot read.
func indexBundle(raws []json.RawMessage) *bundle {
	b := &bundle{
		entries:      make([]entry, len(raws)),
		byURL:        map[string]*entry{},
		byTypeID:     map[string]*entry{},
		byIdentifier: map[string][]*entry{},
	}
	for i, raw := range raws {
		e := &b.entries[i]
		e.n = i + 1
		var ent fhirEntry
		if err := json.Unmarshal(raw, &ent); err != nil {
			e.err = fmt.Errorf("not a bundle entry: %w", decodeError(err))
		} else if len(ent.Resource) == 0 || string(ent.Resource) == "null" {
			e.err = errors.New("no resource")
		} else if e.res = decodeHeader(ent.Resource); e.res.ResourceType == "" {
			e.err = errors.New("not a FHIR resource")
		}
		if e.err != nil {
			b.notes = append(b.notes, note{e.n, e.describe(e.err.Error())})
			continue
		}
		e.fullURL, e.raw = ent.FullURL, ent.Resource
		if e.fullURL != "" {
			b.byURL[e.fullURL] = e
		}
		if e.res.ID != "" && e.res.ResourceType != "Appointment" {
			key := e.res.ResourceType + "/" + e.res.ID
			if earlier := b.byTypeID[key]; earlier != nil {
				earlier.err = fmt.Errorf("entry %d has the same id and is read instead", e.n)
				b.notes = append(b.notes, note{earlier.n, earlier.describe(earlier.err.Error())})
			}
			b.byTypeID[key] = e
		}
		if e.res.ResourceType == "Patient" {
			for _, id := range e.res.Identifier {
				if id.Value != "" {
					b.byIdentifier[id.Value] = append(b.byIdentifier[id.Value], e)
				}
			}
		}
	}
	return b
}

// resolve finds the entry a reference points to: by fullUrl, else by the
// reference's last two segments, type and id, without a version. Matching an
// absolute URL by its type and id alone trusts that the bundle holds one
// server's resources, as an export does.
func (b *bundle) resolve(ref string) *entry {
	e := b.byURL[ref]
	if e == nil && !strings.HasPrefix(ref, "urn:") && !strings.HasPrefix(ref, "#") {
		if typ, id := typeAndID(ref); id != "" {
			e = b.byTypeID[typ+"/"+id]
		}
	}
	if e == nil || e.err != nil {
		return nil
	}
	return e
}

// patientByIdentifier finds the Patient with the identifier; a system given
// on both sides must agree.
func (b *bundle) patientByIdentifier(id fhirIdentifier) *entry {
	for _, e := range b.byIdentifier[id.Value] {
		if e.err != nil {
			continue
		}
		for _, own := range e.res.Identifier {
			if own.Value == id.Value && (own.System == "" || id.System == "" || own.System == id.System) {
				return e
			}
		}
	}
	return nil
}

// unused notes the Patients no appointment refers to and the resources of
// types the importer does not read.
func (b *bundle) unused() []note {
	var notes []note
	for i := range b.entries {
		e := &b.entries[i]
		if e.err != nil || e.used {
			continue
		}
		switch e.res.ResourceType {
		case "Appointment", "Location", "Practitioner":
		case "Patient":
			notes = append(notes, note{e.n, e.describe("no appointment refers to it")})
		default:
			notes = append(notes, note{e.n, e.describe(printable(e.res.ResourceType) + " is not read")})
		}
	}
	return notes
}

// decodeHeader reads what every resource has, leniently: an element of the
// wrong type is left empty here and reported when the resource is mapped.
func decodeHeader(raw json.RawMessage) fhirResource {
	var fields map[string]json.RawMessage
	var res fhirResource
	if json.Unmarshal(raw, &fields) != nil {
		return res
	}
	_ = json.Unmarshal(fields["resourceType"], &res.ResourceType)
	_ = json.Unmarshal(fields["id"], &res.ID)
	_ = json.Unmarshal(fields["identifier"], &res.Identifier)
	return res
}

// typeAndID splits "Patient/123", "https://host/fhir/Patient/123" or
// "Patient/123/_history/2" into "Patient" and "123".
func typeAndID(ref string) (typ, id string) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(ref, "/")
	if len(parts) < 2 {
		return "", ""
	}
	return parts[len(parts)-2], parts[len(parts)-1]
}

// label names the entry's resource for a message.
func (e *entry) label() string {
	switch {
	case e.res.ResourceType == "":
		return ""
	case e.res.ID != "":
		return printable(e.res.ResourceType + "/" + e.res.ID)
	case e.fullURL != "":
		return printable(e.res.ResourceType + " " + e.fullURL)
	}
	return printable(e.res.ResourceType)
}

// describe is a line about the entry, as an EntryError would put it.
func (e *entry) describe(text string) string {
	return (&EntryError{Entry: e.n, Resource: e.label(), Err: errors.New(text)}).Error()
}
