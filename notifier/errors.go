package notifier

import (
	"errors"
	"fmt"
)

// ErrInvalid marks input that can never become valid by retrying: a malformed
// event or appointment record. Such messages are terminated and recorded.
var ErrInvalid = errors.New("invalid input")

// invalid wraps err so that errors.Is(err, ErrInvalid) holds.
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	return &invalidError{err}
}

type invalidError struct{ err error }

func (e *invalidError) Error() string   { return e.err.Error() }
func (e *invalidError) Unwrap() []error { return []error{ErrInvalid, e.err} }

func ErrUnknownFacility(id string) error {
	return fmt.Errorf("unknown facility %q: it is not in the configuration", id)
}
