package notifier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// EncodeJSON encodes v without HTML escaping, so that names such as
// "Müller & Söhne" stay readable in the streams. The records of the hot
// paths are written by hand, to the same bytes (appendRecord).
func EncodeJSON(v any) ([]byte, error) {
	if b, ok := appendRecord(v); ok {
		return b, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// decodeJSON decodes data as json.Unmarshal does, to the same value and
// error, reading the common shape with parse and leaving anything parse
// declines to encoding/json.
func decodeJSON[T any](data []byte, parse func([]byte) (T, bool)) (T, error) {
	if v, ok := parse(data); ok {
		return v, nil
	}
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}

// maxJSONDepth bounds the nesting uniqueKeys follows; records and events
// are a few levels deep.
const maxJSONDepth = 32

// uniqueKeys refuses a JSON text in which an object has two members whose
// names are equal or differ only in case. encoding/json matches names
// without regard to case (Unicode simple folding: K, k and the Kelvin sign)
// and keeps the last, while a verifier in another language may keep the
// first: a signature must cover exactly what the worker reads, so such a
// text is ambiguous and refused. It scans the bytes once without decoding
// them (it runs on every record the replica applies); syntax errors are
// left to the decoder that follows.
func uniqueKeys(data []byte) error {
	type frame struct {
		object bool
		first  int // the first of its names in names
	}
	var stack [maxJSONDepth]frame
	depth := 0
	names := make([][]byte, 0, 32) // the names of the open objects, as written
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '{', '[':
			if depth == maxJSONDepth {
				return fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
			}
			stack[depth] = frame{object: c == '{', first: len(names)}
			depth++
		case '}', ']':
			if depth == 0 {
				return nil
			}
			depth--
			names = names[:stack[depth].first]
		case '"':
			end := i + 1
			for end < len(data) && data[end] != '"' {
				if data[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(data) {
				return nil
			}
			name := data[i+1 : end]
			i = end
			if depth == 0 || !stack[depth-1].object {
				continue
			}
			next := end + 1
			for next < len(data) && (data[next] == ' ' || data[next] == '\t' || data[next] == '\n' || data[next] == '\r') {
				next++
			}
			if next == len(data) || data[next] != ':' {
				continue // a value, not a name
			}
			for _, prev := range names[stack[depth-1].first:] {
				if sameName(prev, name) {
					return fmt.Errorf("the member %q appears twice (names are compared without regard to case)", unquoteName(name))
				}
			}
			names = append(names, name)
		}
	}
	return nil
}

// sameName compares two member names as written, under simple Unicode case
// folding, as encoding/json matches them.
func sameName(a, b []byte) bool {
	if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
		return bytes.EqualFold(a, b)
	}
	return strings.EqualFold(unquoteName(a), unquoteName(b))
}

// unquoteName decodes the escapes of a member name.
func unquoteName(raw []byte) string {
	var s string
	if json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s) != nil {
		return string(raw)
	}
	return s
}
