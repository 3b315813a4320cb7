package notifier

import "encoding/json"

// DecodePlanRecord decodes a PLANS message as json.Unmarshal does, to the
// same PlanRecord and error: every worker's plans view decodes the records
// of every notice planned.
func DecodePlanRecord(data []byte) (PlanRecord, error) {
	var r PlanRecord
	err := json.Unmarshal(data, &r)
	return r, err
}
