package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/postponement/notifier/notifier"
)

// BucketClaims is the KeyValue bucket of claims on revisions of notices'
// outcomes (<notice id>.r<revision>): a worker makes a revision from
// feedback only after creating its claim, so two workers, or two reports
// handled at once, never make the same revision twice. Sending a notice
// takes no claim: JetStream hands it to one dispatcher at a time, and one
// that comes back is looked up in DELIVERIES. Earlier versions claimed every
// notice by its id; those claims lapse after claimsKeep.
const BucketClaims = "notice-claims"

// claimsKeep is how long finished claims are remembered.
const claimsKeep = 7 * 24 * time.Hour

// Claim states.
const (
	claimSending = "sending"
	claimDone    = "done"
)

// claimValue is a claim as stored in the bucket.
type claimValue struct {
	Worker string `json:"worker"`
	State  string `json:"state"`
	// Delivery is the outcome of a finished notice, kept so that a worker
	// finding the claim done can store the outcome its sender did not get
	// to store.
	Delivery *notifier.Delivery `json:"delivery,omitempty"`
}

// claims hands out revisions to workers. A claim a worker keeps refreshing
// is its own; one not refreshed for ttl (its worker died) is taken over.
type claims struct {
	kv     jetstream.KeyValue
	worker string
	ttl    time.Duration
	now    func() time.Time
}

// ensureClaims opens the claims bucket, creating it when missing.
func ensureClaims(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, BucketClaims)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("open bucket %s: %w", BucketClaims, err)
	}
	kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      BucketClaims,
		Description: "Which worker sends which notice.",
		History:     1,
		TTL:         claimsKeep,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		return js.KeyValue(ctx, BucketClaims)
	}
	return kv, err
}

// claim outcomes.
const (
	claimMine     = iota // the caller may send; rev is its claim's revision
	claimBusy            // another worker is sending it; try again after wait
	claimFinished        // another worker finished it
)

// acquire claims a notice for this worker. For a notice finished by
// another worker, done is its outcome.
func (c *claims) acquire(ctx context.Context, id string) (status int, rev uint64, wait time.Duration, done *notifier.Delivery, err error) {
	mine, _ := json.Marshal(claimValue{Worker: c.worker, State: claimSending})
	for range 3 {
		rev, err = c.kv.Create(ctx, id, mine)
		if err == nil {
			return claimMine, rev, 0, nil, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return 0, 0, 0, nil, err
		}
		e, err := c.kv.Get(ctx, id)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // gone in between: try to create it again
		}
		if err != nil {
			return 0, 0, 0, nil, err
		}
		var v claimValue
		_ = json.Unmarshal(e.Value(), &v)
		if v.State == claimDone {
			return claimFinished, 0, 0, v.Delivery, nil
		}
		if age := c.now().Sub(e.Created()); age < c.ttl {
			return claimBusy, 0, c.ttl - age, nil, nil
		}
		// Its worker stopped refreshing it: it died. Take the notice over.
		rev, err = c.kv.Update(ctx, id, mine, e.Revision())
		if err == nil {
			return claimMine, rev, 0, nil, nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return 0, 0, 0, nil, err
		}
	}
	return claimBusy, 0, c.ttl, nil, nil
}

// refresh keeps a claim alive; it returns the new revision. A refresh
// whose answer was lost (a server went away) leaves a newer revision of
// the claim than the caller knows; it is adopted when it is still ours.
func (c *claims) refresh(ctx context.Context, id string, rev uint64) (uint64, error) {
	mine, _ := json.Marshal(claimValue{Worker: c.worker, State: claimSending})
	next, err := c.kv.Update(ctx, id, mine, rev)
	if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return next, err
	}
	e, gerr := c.kv.Get(ctx, id)
	if gerr != nil {
		return rev, err
	}
	var v claimValue
	if json.Unmarshal(e.Value(), &v) != nil || v.Worker != c.worker || v.State != claimSending {
		return rev, fmt.Errorf("claim of notice %s taken over by %s: %w", id, v.Worker, err)
	}
	return c.kv.Update(ctx, id, mine, e.Revision())
}
