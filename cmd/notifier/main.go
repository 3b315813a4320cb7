// Command notifier tells hospital patients that their appointments are
// postponed when the hospital's IT is down. See `notifier --help`.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a command's exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	root := newRoot()
	err := root.Execute()
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "notifier:", ee.err)
		}
		os.Exit(ee.code)
	}
	fmt.Fprintln(os.Stderr, "notifier:", err)
	os.Exit(1)
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "notifier",
		Short: "Tell patients their appointments are postponed when the hospital's IT is down",
		Long: `notifier keeps a replica of a hospital's appointments from NATS JetStream,
and when an outage event arrives it tells every affected patient, soonest
appointment first, in their language, through the first channel that works:
SMTP relays outside the hospital, or a Maildir folder by default. Patients no
channel reached are recorded for staff to phone.

Start with "notifier demo" to see the whole story on embedded defaults.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionText(),
	}
	root.SetVersionTemplate("{{.Version}}")
	root.AddCommand(newVersionCmd(), newRunCmd(), newImportCmd(), newPublishCmd(), newPreviewCmd(), newReportCmd(), newExportCmd(), newKeygenCmd(), newApproveCmd(), newBenchCmd(), newNATSCmd(), newDemoCmd(), newHL7Cmd(), newFHIRCmd())
	return root
}
