package config

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExampleConfigLoads(t *testing.T) {
	c, err := Load("../notifier.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Channels) != 4 || c.Channels[0].Name != "hospital-relay" || c.Channels[1].TLS != "tls" {
		t.Errorf("channels %+v", c.Channels)
	}
	if c.Channels[0].Retry.Backoff != 250*time.Millisecond || c.Dispatch.ShutdownGrace != 30*time.Second {
		t.Errorf("durations not read: %+v %+v", c.Channels[0].Retry, c.Dispatch)
	}
	if f := c.FacilityMap()["ukd"]; f.TimeZone != "Europe/Berlin" || f.Language != "de" {
		t.Errorf("facility %+v", f)
	}
	if c.NATS.FastImport == nil || !c.NATS.FastImportOn() {
		t.Errorf("nats.fast_import %v, want true as written", c.NATS.FastImport)
	}
}

// TestFastImport: nats.fast_import is on unless set to false.
func TestFastImport(t *testing.T) {
	if !Default().NATS.FastImportOn() {
		t.Error("fast_import is off by default")
	}
	c, err := Parse([]byte("nats: {fast_import: false}\nfacilities: {ukd: {name: U, timezone: Europe/Berlin}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.NATS.FastImportOn() {
		t.Error("fast_import: false is read as on")
	}
}

func TestDefaults(t *testing.T) {
	c := Default()
	if c.DataDir != "./data" || c.NATS.URL != "" || c.NATS.Listen != "127.0.0.1:4222" {
		t.Errorf("defaults %+v", c)
	}
	if len(c.Channels) != 2 || c.Channels[0].Type != TypeMaildir || c.Channels[0].Path != "data/maildir" {
		t.Errorf("default channels %+v, want the Maildir data/maildir", c.Channels)
	}
	if last := c.Channels[len(c.Channels)-1]; last.Type != TypeCallList || last.Path != "data/calllist" {
		t.Errorf("last channel %+v, want the call list data/calllist", last)
	}
	if _, err := Parse(nil); err == nil || !strings.Contains(err.Error(), "facilities") {
		t.Errorf("an empty file: %v, want an error asking for facilities", err)
	}
}

func TestInvalidConfigs(t *testing.T) {
	base := "facilities: {ukd: {timezone: Europe/Berlin}}\n"
	tests := map[string]struct{ yaml, want string }{
		"misspelt key":                {base + "chanels: []\n", "chanels"},
		"bad time zone":               {"facilities: {ukd: {timezone: Mars/Olympus}}\n", "timezone"},
		"bad facility id":             {"facilities: {'u.k.d': {timezone: UTC}}\n", "u.k.d"},
		"unknown type":                {base + "channels: [{name: x, type: pigeon}]\n", "pigeon"},
		"smtp without addr":           {base + "channels: [{name: x, type: smtp, tls: tls, from: a@b.c}]\n", "addr"},
		"bad tls":                     {base + "channels: [{name: x, type: smtp, addr: 'h:25', tls: maybe, from: a@b.c}]\n", "tls"},
		"name twice":                  {base + "channels: [{name: x, type: maildir}, {name: x, type: maildir}]\n", "twice"},
		"user, no password":           {base + "channels: [{name: x, type: smtp, addr: 'h:25', tls: tls, from: a@b.c, username: u}]\n", "password"},
		"call list not last":          {base + "channels: [{name: c, type: calllist}, {name: x, type: maildir}]\n", "must come last"},
		"bad rate":                    {base + "channels: [{name: x, type: maildir, rate: fast}]\n", "rate"},
		"webhook, no secret":          {base + "channels: [{name: x, type: webhook, url: 'https://sms.example/send'}]\n", "secret_file"},
		"bad log level":               {base + "log: {level: loud}\n", "log.level"},
		"duration not valid":          {base + "dispatch: {shutdown_grace: soon}\n", "soon"},
		"HL7 message > 1 MiB":         {base + "hl7: {max_message_bytes: 4194304}\n", "hl7.max_message_bytes: 4194304, want at most 1048576"},
		"HL7 place not one":           {base + "hl7: {fields: {department: AIL3.4}}\n", "hl7.fields.department"},
		"facility bounces, no secret": {"facilities: {ukd: {timezone: UTC, bounces: {domain: b.example.org}}}\n", "facilities.ukd.bounces.secret_file: required"},
		"links, no http":              {base + "http: {addr: 'off'}\nconfirm: {public_url: 'https://n.example.org', secret_file: /k}\n", "confirm: the confirmation links lead to /c/ on http.addr, which is off"},
		"bounce hook, no http":        {base + "http: {addr: 'off'}\nbounces: {domain: b.example.org, secret_file: /k}\n", "bounces: without bounces.addr"},
	}
	// Bounces by SMTP need no HTTP.
	if _, err := Parse([]byte(base + "http: {addr: 'off'}\nbounces: {domain: b.example.org, addr: ':2526', secret_file: /k}\n")); err != nil {
		t.Errorf("bounces by SMTP without http: %v", err)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestPassword(t *testing.T) {
	file := t.TempDir() + "/secret"
	os.WriteFile(file, []byte("s3cret\n"), 0o600)
	ch := Channel{Name: "x", PasswordFile: file}
	if p, err := ch.Password(); err != nil || p != "s3cret" {
		t.Errorf("from file: %q, %v", p, err)
	}
	t.Setenv("NOTIFIER_TEST_PW", "env-secret")
	ch = Channel{Name: "x", PasswordEnv: "NOTIFIER_TEST_PW"}
	if p, err := ch.Password(); err != nil || p != "env-secret" {
		t.Errorf("from env: %q, %v", p, err)
	}
	ch = Channel{Name: "x", PasswordEnv: "NOTIFIER_TEST_UNSET"}
	if _, err := ch.Password(); err == nil {
		t.Error("an unset variable is not an error")
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"": 0, "50/s": 50, "600/m": 10, "3600/h": 1, " 2 / s": 2} {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"50", "x/s", "5/d", "-1/s"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
}

// TestBouncesFor: a facility's bounces override the global ones key by
// key, and every distinct configuration is listed once with its
// facilities.
func TestBouncesFor(t *testing.T) {
	c, err := Parse([]byte(`
bounces: {domain: b.example.org, addr: ':2526', secret_file: /global}
facilities:
  ukd: {timezone: UTC}
  kln: {timezone: UTC, bounces: {domain: b.kln.example.org, secret_file: /kln}}
  mhz: {timezone: UTC, bounces: {addr: ':2526'}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.BouncesFor("kln"), (Bounces{Domain: "b.kln.example.org", Addr: ":2526", SecretFile: "/kln"}); got != want {
		t.Errorf("kln: %+v, want %+v", got, want)
	}
	if got := c.BouncesFor("ukd"); got != c.Bounces {
		t.Errorf("ukd: %+v, want the global bounces", got)
	}
	all := c.AllBounces()
	if len(all) != 2 || !slices.Equal(all[0].Facilities, []string{"mhz", "ukd"}) || !slices.Equal(all[1].Facilities, []string{"kln"}) {
		t.Errorf("all bounces %+v, want the global one for mhz and ukd, kln's own", all)
	}
}
