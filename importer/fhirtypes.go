package importer

import "encoding/json"

// The FHIR R4 elements the importer reads, as JSON. Everything else in a
// resource is ignored, so that a bundle from any server decodes.

type fhirBundle struct {
	ResourceType string            `json:"resourceType"`
	Type         string            `json:"type"`
	Link         []fhirLink        `json:"link"`
	Entry        []json.RawMessage `json:"entry"`
}

type fhirLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type fhirEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
}

// fhirResource is what every resource has.
type fhirResource struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id"`
	Identifier   []fhirIdentifier `json:"identifier"`
}

type fhirAppointment struct {
	fhirResource
	Status          string                `json:"status"`
	ServiceCategory []fhirCodeableConcept `json:"serviceCategory"`
	ServiceType     []fhirCodeableConcept `json:"serviceType"`
	Specialty       []fhirCodeableConcept `json:"specialty"`
	AppointmentType *fhirCodeableConcept  `json:"appointmentType"`
	Start           string                `json:"start"`
	End             string                `json:"end"`
	Participant     []struct {
		Actor *fhirReference `json:"actor"`
	} `json:"participant"`
}

type fhirPatient struct {
	fhirResource
	Name          []fhirHumanName     `json:"name"`
	Telecom       []fhirContactPoint  `json:"telecom"`
	Communication []fhirCommunication `json:"communication"`
}

type fhirCommunication struct {
	Language  fhirCodeableConcept `json:"language"`
	Preferred bool                `json:"preferred"`
}

type fhirLocation struct {
	fhirResource
	Name        string `json:"name"`
	Description string `json:"description"`
	Address     *struct {
		Text string   `json:"text"`
		Line []string `json:"line"`
	} `json:"address"`
}

type fhirReference struct {
	Reference  string          `json:"reference"`
	Type       string          `json:"type"`
	Identifier *fhirIdentifier `json:"identifier"`
	Display    string          `json:"display"`
}

type fhirIdentifier struct {
	Use    string `json:"use"`
	System string `json:"system"`
	Value  string `json:"value"`
}

type fhirCodeableConcept struct {
	Coding []fhirCoding `json:"coding"`
	Text   string       `json:"text"`
}

type fhirCoding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type fhirHumanName struct {
	Use    string   `json:"use"`
	Text   string   `json:"text"`
	Family string   `json:"family"`
	Given  []string `json:"given"`
}

type fhirContactPoint struct {
	System string      `json:"system"`
	Value  string      `json:"value"`
	Use    string      `json:"use"`
	Rank   int         `json:"rank"`
	Period *fhirPeriod `json:"period"`
}

type fhirPeriod struct {
	Start string `json:"start"`
	End   string `json:"end"`
}
