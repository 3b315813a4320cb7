// Package notifier is the domain of the appointment postponement notifier:
// appointment records and outage events with their validation, the planning
// of one notice per patient, the fallback chain of channels and its policy,
// and the worker loops that tie them to NATS JetStream.
//
// It defines the interfaces it consumes (a Store, a Sender, a Renderer) and
// depends on no driver: SQLite, SMTP and the templates live in packages of
// their own that satisfy these interfaces.
package notifier
