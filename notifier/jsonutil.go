package notifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// jsonMarshal encodes v without HTML escaping, so that names such as
// "Müller & Söhne" stay readable in the streams.
func EncodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// maxJSONDepth bounds the nesting uniqueKeys follows; records and events
// are a few levels deep.
const maxJSONDepth = 32

// uniqueKeys refuses a JSON text in which an object has two members whose
// names are equal or differ only in case. encoding/json matches names
// without regard to case and keeps the last, while a verifier in another
// language may keep the first: a signature must cover exactly what the
// worker reads, so such a text is ambiguous and refused. Syntax errors are
// left to the decoder that follows.
func uniqueKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// Each open container: nil for an array, else the names seen so far.
	var stack []map[string]bool
	expectKey := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // the decoder reports it
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxJSONDepth {
					return fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
				}
				var names map[string]bool
				if t == '{' {
					names = map[string]bool{}
				}
				stack = append(stack, names)
				expectKey = t == '{'
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if expectKey {
				top := stack[len(stack)-1]
				k := foldKey(t)
				if top[k] {
					return fmt.Errorf("the member %q appears twice (names are compared without regard to case)", t)
				}
				top[k] = true
				expectKey = false
				continue
			}
		}
		// After a value: inside an object the next token is a name.
		expectKey = len(stack) > 0 && stack[len(stack)-1] != nil
	}
}

// foldKey maps a name to the smallest rune of each rune's case-folding
// orbit, so that every spelling encoding/json would match (K, k and the
// Kelvin sign K; s and the long ſ) gives the same key.
func foldKey(s string) string {
	return strings.Map(func(r rune) rune {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		return min
	}, s)
}
