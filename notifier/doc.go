// Package notifier is the domain of the appointment postponement notifier:
// appointment records and outage events with their validation, the affected
// rule, the grouping of affected appointments into one notice per patient
// (Grouper, used by the planner, preview and the benchmarks alike), the
// approval scope, the fallback chain of channels and its policy.
//
// It defines the interfaces it consumes (a Store, a Sender, a Renderer) and
// depends on no driver: NATS JetStream (package engine), SQLite, SMTP and
// the templates live in packages of their own.
package notifier
