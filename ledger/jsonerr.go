package ledger

import (
	"bytes"
	"reflect"
)

// The JSON files underwriter reads (ledger files here; models, policies and rules in
// scoring) report a decoding error by where it is and what was wanted, in the same words.

// JSONPosition returns the 1-based line and column of byte offset off in data (clamped
// to data).
func JSONPosition(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	return 1 + bytes.Count(before, []byte{'\n'}), int(off) - bytes.LastIndexByte(before, '\n')
}

// JSONKind names the JSON value a Go type is decoded from: "an integer", "a finite
// number", "a string", "true or false", "an array", "an object" (a pointer, its
// element's); any other type by its Go name.
func JSONKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a finite number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return JSONKind(t.Elem())
	}
	return t.String()
}
