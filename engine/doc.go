// Package engine runs the notifier on NATS JetStream: the streams and their
// subjects, the durable consumers of the planner (one per facility) and the
// dispatchers, message ids, the views that follow the
// streams into the store, and the worker that runs these loops. It calls the
// domain (package notifier) for every decision: what an event means, whom a
// notice tells and what it says, which channel to try next.
package engine
