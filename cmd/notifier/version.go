package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionText is the module version, the commit it was built from and the
// Go version, as the build recorded them.
func versionText() string {
	version, commit, modified, goVersion := "(devel)", "unknown", false, "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
		if v := info.Main.Version; v != "" {
			version = v
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if modified {
		commit += " (modified)"
	}
	return fmt.Sprintf("notifier %s\ncommit %s\n%s\n", version, commit, goVersion)
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Long: `Print the module version, the commit the binary was built from (with
"(modified)" when the tree had uncommitted changes) and the Go version, as
the build recorded them. "notifier --version" prints the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(cmd.OutOrStdout(), versionText())
			return nil
		},
	}
}
