package scoring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// decodeFile decodes data, one JSON document, into v for the model, policy and rules
// loaders. Unknown fields are an error (a typo must not silently drop a parameter), and
// so is anything after the document (two concatenated files, or a stray edit, would
// otherwise load the first half). Errors say where: the line and column of a syntax
// error, or the field path of a value of the wrong type.
func decodeFile(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return located(data, err)
	}
	end := dec.InputOffset()
	if rest := bytes.TrimLeft(data[end:], " \t\r\n"); len(rest) > 0 {
		line, col := position(data, int64(len(data)-len(rest)))
		return fmt.Errorf("line %d, column %d: data after the JSON document", line, col)
	}
	return nil
}

// located adds the position of a decoding error of data to its message.
func located(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("empty file")
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(data, int64(len(data)))
		return fmt.Errorf("line %d, column %d: unexpected end of JSON input", line, col)
	case errors.As(err, &se):
		// Offset counts the offending byte itself; point at it, unless the input ended.
		off := se.Offset
		if off > 0 && off < int64(len(data)) {
			off--
		}
		line, col := position(data, off)
		return fmt.Errorf("line %d, column %d: %s", line, col, se.Error())
	case errors.As(err, &te):
		line, _ := position(data, te.Offset)
		field := te.Field
		if field == "" {
			field = "file"
		}
		return fmt.Errorf("%s: got %s, want %s (line %d)", field, te.Value, jsonKind(te.Type), line)
	}
	return err // json: unknown field "x" names the field already
}

// position returns the 1-based line and column of byte offset off in data.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	return 1 + bytes.Count(before, []byte{'\n'}), int(off) - bytes.LastIndexByte(before, '\n')
}

// jsonKind names the JSON value a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint64:
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
		return jsonKind(t.Elem())
	}
	return t.String()
}
