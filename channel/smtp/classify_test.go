package smtp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/postponement/notifier/notifier"
)

func TestClassify(t *testing.T) {
	to := notifier.Recipient{Name: patientName, Email: patientEmail}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

	for _, tc := range []struct {
		name       string
		err        error
		wantClass  notifier.Class
		wantReason string
	}{
		{"STARTTLS missing", &stageError{stageSetup, errNoStartTLS}, notifier.Permanent, "STARTTLS"},
		{"setup deadline", &stageError{stageSetup, errors.Join(context.DeadlineExceeded, net.ErrClosed)}, notifier.Transient, "timed out (setup)"},
		{"connection refused", &stageError{stageConnect, refused}, notifier.Transient, "refused the connection"},
		{"connection lost", &stageError{stageRcpt, io.EOF}, notifier.Transient, "connection to the relay failed (rcpt)"},
		{"a malformed reply", &stageError{stageRcpt, textproto.ProtocolError("short response: 55 " + patientEmail)}, notifier.Transient, "relay session failed (rcpt)"},
		{"a reply without class", &stageError{stageRcpt, &smtp.SMTPError{Code: 354}}, notifier.Transient, "unexpected reply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			se := classify(tc.err, to)
			if se.Class != tc.wantClass || !strings.Contains(se.Reason, tc.wantReason) {
				t.Errorf("got %v %q, want %v and a reason containing %q", se.Class, se.Reason, tc.wantClass, tc.wantReason)
			}
			wantNoPatientData(t, se)
		})
	}

	t.Run("network errors keep their chain", func(t *testing.T) {
		if se := classify(&stageError{stageConnect, refused}, to); !errors.Is(se, syscall.ECONNREFUSED) {
			t.Errorf("errors.Is(%v, ECONNREFUSED): got false, want true", se)
		}
	})
}

func TestBadRecipient(t *testing.T) {
	for _, tc := range []struct {
		stage stage
		code  smtp.EnhancedCode
		want  bool
	}{
		{stageRcpt, smtp.EnhancedCode{5, 1, 1}, true},
		{stageRcpt, smtp.EnhancedCode{5, 1, 10}, true},
		{stageEnd, smtp.EnhancedCode{5, 1, 2}, true},
		{stageRcpt, smtp.EnhancedCode{5, 1, 8}, false},
		{stageRcpt, smtp.EnhancedCode{5, 7, 1}, false},
		{stageRcpt, smtp.EnhancedCode{5, 2, 2}, false},
		{stageMail, smtp.EnhancedCode{5, 1, 1}, false},
		{stageSetup, smtp.EnhancedCode{5, 1, 1}, false},
	} {
		if got := badRecipient(tc.stage, tc.code); got != tc.want {
			t.Errorf("badRecipient(%s, %v): got %v, want %v", tc.stage, tc.code, got, tc.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	closing := &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"421 on MAIL", &stageError{stageMail, closing}, true},
		{"EOF on MAIL", &stageError{stageMail, io.EOF}, true},
		{"broken pipe writing the data", &stageError{stageData, syscall.EPIPE}, true},
		{"reset on RCPT", &stageError{stageRcpt, syscall.ECONNRESET}, true},
		{"EOF after the end of data", &stageError{stageEnd, io.EOF}, false},
		{"421 after the end of data", &stageError{stageEnd, closing}, false},
		{"451 on RCPT", &stageError{stageRcpt, &smtp.SMTPError{Code: 451}}, false},
		{"a timeout on MAIL", &stageError{stageMail, context.DeadlineExceeded}, false},
	} {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("retryable(%s): got %v, want %v", tc.name, got, tc.want)
		}
	}
}
