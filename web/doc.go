// Package web serves what operators read during an outage, from a laptop or
// a phone: a status page that refreshes itself, the call lists, the same
// figures as JSON, the Prometheus metrics and the health probes.
//
// Routes to read, GET (and HEAD):
//
//	/                                the status page
//	/outages/{id}/calllist.html      an outage's call list, to print or read;
//	                                 for signed-in staff the worklist, with
//	                                 a form per row
//	/outages/{id}/calllist.csv       the same as CSV, for a spreadsheet
//	/calllist/login                  the staff's sign-in form
//	/api/outages                     every outage and channel, as JSON
//	/api/outages/{id}                one outage, as JSON
//	/metrics                         Options.Metrics
//	/healthz                         200 "ok" while the process serves
//	/readyz                          200 when Options.Ready says so, else 503
//	                                 with the reason
//
// Routes to write, POST, with a staff token (bearer, or the session cookie
// the sign-in form sets) and refused to other origins:
//
//	/outages/{id}/calls              a claim, release or call outcome for a
//	                                 row of the call list (see recordCall)
//	/calllist/login                  sign in: a staff token and a name
//	/calllist/logout                 sign out
//
// The worker (app.Handler) adds the patients' confirmation pages (GET and
// POST /c/<token>) and the channels' webhooks (POST /hooks/sms-status,
// POST /hooks/bounce), each authenticated by its own token or signature.
//
// The pages hold no JavaScript and every response forbids scripts, framing
// and sniffing. The call lists hold patient data: they are never cached, are
// refused to a Host header that is not an IP address, localhost or one of
// Options.Hosts (so that a web page cannot reach them through DNS
// rebinding). Authentication is the caller's: the worker (app.Handler) puts
// every page but /healthz behind a bearer token (http.token_file), required
// when the address is not loopback.
//
// # JSON
//
// The field names are stable, for scripts and dashboards. Times are RFC 3339
// in UTC; a time that is not known is null; lists are never null.
//
// GET /api/outages answers
//
//	{
//	  "generated_at": time,
//	  "outages":  [outage, …],   being planned first, then open, newest first
//	  "channels": [channel, …]   in the chain's order
//	  "ready":    bool            false while the worker cannot do its job
//	  "not_ready": [string, …]   why not (absent when ready), as /readyz says
//	}
//
// and GET /api/outages/{id} one outage (404 when unknown):
//
//	id, facility, facility_name   the outage and its site
//	state                         declared, updated or resolved; planning
//	                              while its first event is being planned,
//	                              when only the counts are known
//	action                        postpone or cancel
//	from, until                   the outage's window
//	time_zone                     the facility's IANA zone, for display
//	departments, kinds            its scope: ["*"] is every department, no
//	                              kinds every kind but inpatient
//	hotline                       the number patients are given
//	declared_at, updated_at       when the worker first and last heard of it
//	planned                       notices planned, one per patient and kind
//	delivered, manual, pending    planned = delivered + manual + pending
//	held                          notices held for approval (not pending)
//	approval_scope                what an approval of a held outage names
//	                              (absent unless held)
//	delivered_by_channel          {channel name: delivered notices}
//	planned_by_kind               {kind: notices} (postponed, cancelled, …)
//	phase                         waiting (nothing planned), starting (no
//	                              outcome yet), sending, stalled (pending,
//	                              no outcome within the rate window) or done
//	first_outcome_at, last_outcome_at
//	rate_per_minute               outcomes per minute over the last
//	rate_window_seconds           seconds, or since the first outcome
//	remaining_seconds             pending / rate; null without a rate
//	estimated_finish_at           generated_at + remaining_seconds, or null
//	earliest_pending_appointment  the soonest appointment whose notice has no
//	                              outcome yet: who may turn up unwarned
//	earliest_manual_appointment   the soonest appointment on the call list
//	confirmed                     notices the patient confirmed through the
//	                              notice's link (reached)
//	failed_after_acceptance       notices a channel accepted, then reported
//	                              failed (bounced, SMS not delivered)
//	earliest_unreached_appointment  the soonest appointment of a patient who
//	                              neither confirmed nor was reached by phone
//	calllist                      {to_call, later, claimed, reached,
//	                              unreachable, attempts}: the call list's rows
//	                              by where staff stand, and the unanswered
//	                              calls made
//	links                         {self, calllist_html, calllist_csv}: paths
//
// A channel is
//
//	name, medium           as configured (medium: email or sms)
//	state                  up, failing, breaker open or rate-limited
//	breaker                closed, half-open or open
//	consecutive_failures   failures since the last success
//	last_failure_at        null when it never failed
//	last_failure_reason    why it last failed (never patient data)
package web
