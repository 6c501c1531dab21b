package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"schedsvc/gen/api"
)

// Text the API accepts must be storable as it was sent. encoding/json
// replaces invalid UTF-8 with U+FFFD without a word, so a body that is not
// UTF-8 would be stored altered; PostgreSQL refuses NUL in text and jsonb
// alike, so a "\u0000" anywhere would fail the insert as a 500. Both are
// checked here, once for every field and parameter, rather than field by
// field in the domain, so a field added to the spec is covered without
// anyone remembering to.

// invalidUTF8 describes the first query parameter, or the body, that is
// not valid UTF-8; "" when all text is.
func invalidUTF8(query url.Values, body []byte) string {
	for _, name := range sortedKeys(query) {
		invalid := func(v string) bool { return !utf8.ValidString(v) }
		if invalid(name) || slices.ContainsFunc(query[name], invalid) {
			return fmt.Sprintf("query parameter %q is not valid UTF-8", name)
		}
	}
	if !utf8.Valid(body) {
		return "the request body is not valid UTF-8"
	}
	return ""
}

// nulFields returns a field error for every query parameter and every
// string in the JSON body (object keys included) that contains NUL. The
// body has passed request validation, so it is JSON when it is not empty.
func nulFields(query url.Values, body []byte) []api.ProblemFieldError {
	var fields []api.ProblemFieldError
	for _, name := range sortedKeys(query) {
		if strings.ContainsRune(name, 0) || slices.ContainsFunc(query[name], hasNUL) {
			fields = append(fields, nulField(name, "query"))
		}
	}
	if len(bytes.TrimSpace(body)) == 0 || !bytes.Contains(body, []byte(`\u0000`)) {
		return fields // a NUL can only arrive escaped: a raw one is not JSON
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return fields
	}
	var walk func(path []string, v any)
	walk = func(path []string, v any) {
		switch v := v.(type) {
		case string:
			if hasNUL(v) {
				fields = append(fields, nulField(strings.Join(path, "."), "body"))
			}
		case []any:
			for i, e := range v {
				walk(append(path, strconv.Itoa(i)), e)
			}
		case map[string]any:
			keys := sortedKeys(v)
			if slices.ContainsFunc(keys, hasNUL) {
				fields = append(fields, api.ProblemFieldError{Field: fieldName("", path),
					Message: `a key of this object contains the NUL character (\u0000), which cannot be stored`})
			}
			for _, k := range keys {
				if !hasNUL(k) {
					walk(append(path, k), v[k])
				}
			}
		}
	}
	walk(nil, v)
	return fields
}

func nulField(field, where string) api.ProblemFieldError {
	if field == "" {
		field = where
	}
	return api.ProblemFieldError{Field: field, Message: `must not contain the NUL character (\u0000), which cannot be stored`}
}

func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
