package notifier

import "encoding/json"

// DecodeDelivery decodes an outcome as json.Unmarshal does, to the same
// Delivery and error: every worker's audit view decodes every outcome.
func DecodeDelivery(data []byte) (Delivery, error) {
	var d Delivery
	err := json.Unmarshal(data, &d)
	return d, err
}

// DecodePlanRecord decodes a PLANS message as json.Unmarshal does, to the
// same PlanRecord and error: every worker's plans view decodes the records
// of every notice planned.
func DecodePlanRecord(data []byte) (PlanRecord, error) {
	var r PlanRecord
	err := json.Unmarshal(data, &r)
	return r, err
}
