package engine

import (
	"testing"

	"github.com/postponement/notifier/notifier"
)

func TestPlanRecordIDNamesEveryNotice(t *testing.T) {
	chunk := func(ids ...string) []*notifier.Notice {
		out := make([]*notifier.Notice, len(ids))
		for i, id := range ids {
			out[i] = &notifier.Notice{ID: id}
		}
		return out
	}
	a := planRecordID(chunk("n-1", "n-2", "n-3"))
	if a != planRecordID(chunk("n-1", "n-2", "n-3")) {
		t.Error("the same chunk planned again has another id: it would be stored twice")
	}
	for _, other := range [][]*notifier.Notice{
		chunk("n-1", "n-2b", "n-3"), // a patient in the middle changed
		chunk("n-1", "n-3"),
		chunk("n-1", "n-2", "n-3", "n-4"),
		chunk("n-1n-2", "n-3"),
	} {
		if planRecordID(other) == a {
			t.Errorf("a different chunk has the same id: JetStream would drop its records as a duplicate")
		}
	}
}
