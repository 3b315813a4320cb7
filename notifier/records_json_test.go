package notifier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The records of the per-notice path (notices, outcomes, plan records) are
// held to encoding/json as appointments are: EncodeJSON to its bytes, the
// parsers to json.Unmarshal, over random values encoded and mutated.

// checkEncode fails unless EncodeJSON writes v, and its copy, to the bytes
// encoding/json writes, or fails as encoding/json does.
func checkEncode[T any](t *testing.T, v *T) {
	t.Helper()
	want, wantErr := encodeReference(v)
	for _, x := range []any{v, *v} {
		got, err := EncodeJSON(x)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || !bytes.Equal(got, want) {
			t.Fatalf("EncodeJSON(%T) of %#v:\ngot  %s, %v\nwant %s, %v", x, v, got, err, want, wantErr)
		}
	}
}

// checkDecode fails unless parse takes only what json.Unmarshal accepts,
// to the same value, and decode returns what json.Unmarshal returns, value
// and error. It reports whether parse took data.
func checkDecode[T any](t *testing.T, data []byte, parse func([]byte) (T, bool), decode func([]byte) (T, error)) bool {
	t.Helper()
	var want, zero T
	wantErr := json.Unmarshal(data, &want)
	got, ok := parse(data)
	switch {
	case !ok && !reflect.DeepEqual(got, zero):
		t.Errorf("parsing %q declines, but returns %#v", data, got)
	case ok && wantErr != nil:
		t.Errorf("parsing %q accepts what encoding/json refuses: %v", data, wantErr)
	case ok && !reflect.DeepEqual(got, want):
		t.Errorf("parsing %q:\ngot  %#v\nwant %#v", data, got, want)
	}
	v, err := decode(data)
	if fmt.Sprintf("%T %v", err, err) != fmt.Sprintf("%T %v", wantErr, wantErr) || !reflect.DeepEqual(v, want) {
		t.Errorf("decoding %q:\ngot  %#v, %v\nwant %#v, %v", data, v, err, want, wantErr)
	}
	return ok
}

// decodeSeeds are odd and encodings of random values.
func decodeSeeds[T any](t testing.TB, odd []string, random func(*rand.Rand) T, parse func([]byte) (T, bool)) [][]byte {
	var seeds [][]byte
	for _, s := range odd {
		seeds = append(seeds, []byte(s))
	}
	return appendEncoded(t, seeds, len(odd)+200, rand.New(rand.NewPCG(11, 12)), random, parse)
}

// appendEncoded appends encodings of random values to seeds, some
// indented, until there are n; parse must take every encoding but those
// with a nil list (null).
func appendEncoded[T any](t testing.TB, seeds [][]byte, n int, rng *rand.Rand, random func(*rand.Rand) T, parse func([]byte) (T, bool)) [][]byte {
	for len(seeds) < n {
		v := random(rng)
		data, err := encodeReference(&v)
		if err != nil {
			continue
		}
		if _, ok := parse(data); !ok && !bytes.Contains(data, []byte(":null")) {
			t.Errorf("an encoded %T is declined: %s", v, data)
		}
		seeds = append(seeds, data)
		if rng.IntN(4) == 0 {
			var b bytes.Buffer
			if err := json.Indent(&b, data, " ", "\t"); err != nil {
				t.Fatal(err)
			}
			seeds = append(seeds, b.Bytes())
		}
	}
	return seeds
}

// testDecode checks the seeds and their mutations with checkDecode.
func testDecode[T any](t *testing.T, seeds [][]byte, pieces []string, parse func([]byte) (T, bool), decode func([]byte) (T, error)) {
	t.Helper()
	testMutations(t, seeds, pieces, rand.New(rand.NewPCG(13, 14)), 2, func(data []byte) bool {
		return checkDecode(t, data, parse, decode)
	})
}

// testMutations checks the seeds and 30 mutations of each with check,
// which reports whether the parser took the data: at least perSeed times
// the seeds' number must be taken to compare (most mutations that
// encoding/json takes rename a member, which the parsers leave to it).
func testMutations(t *testing.T, seeds [][]byte, pieces []string, rng *rand.Rand, perSeed int, check func([]byte) bool) {
	t.Helper()
	taken := 0
	for _, data := range seeds {
		check(data)
		for range 30 {
			data := mutate(rng, data, pieces)
			if rng.IntN(2) == 0 {
				data = mutate(rng, data, pieces)
			}
			if check(data) {
				taken++
			}
		}
	}
	if taken < len(seeds)*perSeed {
		t.Errorf("%d of %d mutated records taken, too few to compare", taken, len(seeds)*30)
	}
}

// recordPieces are inserted into records to make them odd.
var recordPieces = append([]string{`"appointments":[],`, `"appointments":[{"neutral":true}],`, `"trail":[{}],`, `"notices":[{}],`, `"notice":{},`, `"event":{},`,
	`"attempts":1,`, `"code":-1,`, `"revision":1e2,`, `"neutral":true,`, `"link":false,`, "1.5", "-", "-0", "01",
	"9223372036854775808", "-9223372036854775808", "1e3", "false", "nul", "tru"}, mutationPieces...)

// randomInt is an int of every kind: zero, small, extreme.
func randomInt(rng *rand.Rand) int {
	switch rng.IntN(6) {
	case 0:
		return 0
	case 1:
		return rng.IntN(600)
	case 2:
		return -rng.IntN(10)
	case 3:
		return []int{math.MaxInt, math.MinInt, 1, -1}[rng.IntN(4)]
	}
	return int(rng.Int64())
}

// randomList is nil, empty or a few randomText.
func randomList(rng *rand.Rand) []string {
	switch rng.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	list := make([]string, 1+rng.IntN(4))
	for i := range list {
		list[i] = randomText(rng)
	}
	return list
}

// randomLength is the length of a random list, -1 for nil.
func randomLength(rng *rand.Rand) int {
	switch rng.IntN(4) {
	case 0:
		return -1
	case 1:
		return 0
	}
	return 1 + rng.IntN(4)
}

// fuzzed sets v's strings, in order, to the pieces of text split at 0x1e,
// and its times that are not zero (omitzero leaves those out) to sec and
// nsec in a zone of offset seconds, moved on a day and a nanosecond each;
// UTC when utc.
func fuzzed(v any, text []byte, sec, nsec int64, offset int, utc bool) {
	pieces := strings.Split(string(text), "\x1e")
	zone := time.FixedZone("", offset)
	if utc {
		zone = time.UTC
	}
	moved := 0
	var set func(v reflect.Value)
	set = func(v reflect.Value) {
		switch {
		case v.Type() == reflect.TypeFor[time.Time]():
			if v.Interface().(time.Time).IsZero() {
				return
			}
			v.Set(reflect.ValueOf(time.Unix(sec, nsec).In(zone).Add(time.Duration(moved) * (24*time.Hour + 1))))
			moved++
		case v.Kind() == reflect.String && len(pieces) > 0:
			v.SetString(pieces[0])
			pieces = pieces[1:]
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				set(v.Field(i))
			}
		case v.Kind() == reflect.Slice:
			for i := range v.Len() {
				set(v.Index(i))
			}
		case v.Kind() == reflect.Pointer && !v.IsNil():
			set(v.Elem())
		}
	}
	set(reflect.ValueOf(v).Elem())
}

// addEncodeSeeds seeds a fuzz test of (seed, text, sec, nsec, offset, utc),
// the arguments of a random value of seed made fuzzed: escapes of every
// kind, invalid UTF-8, times with and without nanoseconds in zones of
// every kind, at the ends of RFC 3339's years and beyond them.
func addEncodeSeeds(f *testing.F) {
	text := []byte("n-1\x1epostponed\x1eukd-2030\x1eukd\x1eUniversitätsklinikum Düsseldorf\x1eUKD\x1eEurope/Berlin\x1eDE\x1ede" +
		"\x1eP-1\x1eAyşe Müller\x1ede\x1ea@example.org\x1e+49 211\x1eemail\x1esms\x1eA-1\x1ecardiology\x1eBuilding 13")
	odd := []byte("\"\\\x00\x1f\x7f\u2028\u2029\xff\xc3<&>\x1e\x1e\b\f\n\r\t\x1e\\u0041\x1e😀\u200b\ufeff\x1e\xed\xa0\x80\x1e\x1e")
	f.Add(uint64(1), text, int64(1900000000), int64(0), 3600, false)
	f.Add(uint64(2), odd, int64(-62167219200), int64(999999999), -12600, false)
	f.Add(uint64(3), []byte("x"), int64(253402300799), int64(1), 0, true)
	f.Add(uint64(4), []byte("x"), int64(253402300800), int64(0), 0, true)
	f.Add(uint64(5), []byte("x"), int64(-62167219201), int64(0), 0, true)
	f.Add(uint64(6), []byte(""), int64(0), int64(0), 24*3600, false)
	f.Add(uint64(7), []byte(""), int64(0), int64(0), 3208, false)
	f.Add(uint64(8), odd, int64(1), int64(1000), -3600, false)
	f.Add(uint64(9), text, int64(1741163400), int64(123456789), 14*3600, false)
	f.Add(uint64(10), []byte("\x1e\x1e\x1e"), int64(-1), int64(-1), -(23*3600 + 59*60), false)
}
