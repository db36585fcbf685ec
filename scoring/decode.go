package scoring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/cashflow-underwriting/underwriter/ledger"
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
		line, col := ledger.JSONPosition(data, int64(len(data)-len(rest)))
		return fmt.Errorf("line %d, column %d: data after the JSON document", line, col)
	}
	return nil
}

// checked is a loaded file's structure that validates itself, naming the field at fault.
type checked[T any] interface {
	*T
	validate() error
}

// loadFile is the one load step of the model, policy and monitoring-policy files:
// decode data into a new T (decodeFile) and validate it. A decoding error reads
// "<invalid>: decode <kind> file: <where and what>"; validation errors are validate's,
// which wrap invalid too (fieldError).
func loadFile[T any, P checked[T]](data []byte, kind string, invalid error) (*T, error) {
	v := new(T)
	if err := decodeFile(data, v); err != nil {
		return nil, fmt.Errorf("%w: decode %s file: %w", invalid, kind, err)
	}
	if err := P(v).validate(); err != nil {
		return nil, err
	}
	return v, nil
}

// fieldError is a validation error of a loaded file: "<invalid>: <field>: <problem>".
func fieldError(invalid error, field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", invalid, field, fmt.Sprintf(format, args...))
}

// located adds the position of a decoding error of data to its message.
func located(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("empty file")
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := ledger.JSONPosition(data, int64(len(data)))
		return fmt.Errorf("line %d, column %d: unexpected end of JSON input", line, col)
	case errors.As(err, &se):
		// Offset counts the offending byte itself; point at it, unless the input ended.
		off := se.Offset
		if off > 0 && off < int64(len(data)) {
			off--
		}
		line, col := ledger.JSONPosition(data, off)
		return fmt.Errorf("line %d, column %d: %s", line, col, se.Error())
	case errors.As(err, &te):
		line, _ := ledger.JSONPosition(data, te.Offset)
		field := te.Field
		if field == "" {
			field = "file"
		}
		return fmt.Errorf("%s: got %s, want %s (line %d)", field, te.Value, ledger.JSONKind(te.Type), line)
	}
	return err // json: unknown field "x" names the field already
}
