package fcsandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// apiError is a Stripe error response: HTTP status plus the error body.
type apiError struct {
	status int
	body   errorBody
}

func (e *apiError) Error() string { return e.body.Message }

const (
	typeInvalidRequest = "invalid_request_error"
	typeIdempotency    = "idempotency_error"
	typeAPI            = "api_error"
)

func docURL(code string) string {
	return "https://stripe.com/docs/error-codes/" + strings.ReplaceAll(code, "_", "-")
}

func invalid(status int, code, param, msg string) *apiError {
	e := &apiError{status: status, body: errorBody{Type: typeInvalidRequest, Code: code, Param: param, Message: msg}}
	if code != "" {
		e.body.DocURL = docURL(code)
	}
	return e
}

func errMissing(param string) *apiError {
	return invalid(http.StatusBadRequest, "parameter_missing", param, "Missing required param: "+param+".")
}

func errEmpty(param string) *apiError {
	return invalid(http.StatusBadRequest, "parameter_invalid_empty", param, fmt.Sprintf(
		"You passed an empty string for '%s'. We assume empty values are an attempt to unset a parameter; "+
			"however '%s' cannot be unset. You should remove '%s' from your request or supply a non-empty value.",
		param, param, param))
}

func errEnum(param, value string, allowed []string) *apiError {
	return invalid(http.StatusBadRequest, "", param, fmt.Sprintf("Invalid %s: must be one of %s", param, oneOf(allowed)))
}

func oneOf(allowed []string) string {
	switch len(allowed) {
	case 1:
		return allowed[0]
	case 2:
		return allowed[0] + " or " + allowed[1]
	}
	return strings.Join(allowed[:len(allowed)-1], ", ") + ", or " + allowed[len(allowed)-1]
}

func errUnknownParam(param string) *apiError {
	return invalid(http.StatusBadRequest, "parameter_unknown", param, "Received unknown parameter: "+param)
}

func errInteger(param, value string) *apiError {
	return invalid(http.StatusBadRequest, "parameter_invalid_integer", param, "Invalid integer: "+value)
}

// errNoSuch is Stripe's 404 for a missing object; object is e.g. "financial_connections.account".
func errNoSuch(object, id, param string) *apiError {
	return invalid(http.StatusNotFound, "resource_missing", param, fmt.Sprintf("No such %s: '%s'", object, id))
}

// paramKind says how a top-level parameter may appear in a form.
type paramKind int

const (
	kindScalar   paramKind = iota // name=v
	kindList                      // name[]=v, name[0]=v (or name= to send an empty list)
	kindAnyHash                   // name[anything]=v (metadata)
	kindHash                      // name[sub]=v for the listed subkeys
	kindIntRange                  // name=v or name[gt|gte|lt|lte]=v
)

type paramSpec struct {
	kind paramKind
	subs []string // kindHash subkeys
}

// form wraps parsed form values with Stripe's bracket conventions.
type form struct{ v url.Values }

// check rejects parameters not in spec, the way Stripe answers
// "Received unknown parameter".
func (f form) check(spec map[string]paramSpec) *apiError {
	keys := make([]string, 0, len(f.v))
	for k := range f.v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, rest, hasBracket := strings.Cut(k, "[")
		s, ok := spec[name]
		if !ok {
			return errUnknownParam(name)
		}
		sub := strings.TrimSuffix(rest, "]")
		switch {
		case hasBracket && s.kind == kindAnyHash:
			// Any nesting is accepted (metadata[k], filters[countries][0], address[line1]).
		case !hasBracket:
			if s.kind == kindHash || s.kind == kindAnyHash {
				// name= with an empty value unsets a hash in Stripe; accept it.
				if f.v.Get(k) != "" {
					return invalid(http.StatusBadRequest, "", name, "Invalid object")
				}
			}
		case strings.Contains(sub, "[") || !strings.HasSuffix(rest, "]"):
			return errUnknownParam(k)
		case s.kind == kindList:
			if sub != "" {
				if _, err := strconv.Atoi(sub); err != nil {
					return errUnknownParam(k)
				}
			}
		case s.kind == kindHash:
			if !contains(s.subs, sub) {
				return errUnknownParam(k)
			}
		case s.kind == kindIntRange:
			if !contains([]string{"gt", "gte", "lt", "lte"}, sub) {
				return errUnknownParam(k)
			}
		default:
			return errUnknownParam(k)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str returns name's value and whether it was sent.
func (f form) str(name string) (string, bool) {
	vs, ok := f.v[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

// list returns name's values in index order (name, name[], name[N]) and
// whether the parameter was sent at all. "name=" alone is an empty list.
func (f form) list(name string) ([]string, bool) {
	type item struct {
		idx int
		pos int
		v   string
	}
	var items []item
	present := false
	pos := 0
	for k, vs := range f.v {
		switch {
		case k == name:
			present = true
			for _, v := range vs {
				if v != "" {
					items = append(items, item{idx: -1, pos: pos, v: v})
					pos++
				}
			}
		case k == name+"[]":
			present = true
			for _, v := range vs {
				items = append(items, item{idx: -1, pos: pos, v: v})
				pos++
			}
		case strings.HasPrefix(k, name+"[") && strings.HasSuffix(k, "]"):
			n, err := strconv.Atoi(k[len(name)+1 : len(k)-1])
			if err != nil {
				continue
			}
			present = true
			for _, v := range vs {
				items = append(items, item{idx: n, pos: pos, v: v})
				pos++
			}
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].idx != items[j].idx {
			return items[i].idx < items[j].idx
		}
		return items[i].pos < items[j].pos
	})
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.v)
	}
	return out, present
}

// hash returns name[key]=value pairs.
func (f form) hash(name string) map[string]string {
	out := map[string]string{}
	for k, vs := range f.v {
		if strings.HasPrefix(k, name+"[") && strings.HasSuffix(k, "]") && len(vs) > 0 {
			out[k[len(name)+1:len(k)-1]] = vs[len(vs)-1]
		}
	}
	return out
}

// enumList validates a required or optional list parameter against allowed values.
func (f form) enumList(name string, required bool, allowed []string) ([]string, *apiError) {
	vals, present := f.list(name)
	if !present {
		if required {
			return nil, errMissing(name)
		}
		return nil, nil
	}
	if len(vals) == 0 {
		if required {
			return nil, errEmpty(name)
		}
		return []string{}, nil
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(vals))
	for i, v := range vals {
		if !contains(allowed, v) {
			return nil, errEnum(fmt.Sprintf("%s[%d]", name, i), v, allowed)
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out, nil
}

// int64Param parses an optional integer parameter.
func (f form) int64Param(name string) (int64, bool, *apiError) {
	s, ok := f.str(name)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, errInteger(name, s)
	}
	return n, true, nil
}

// canonical is a deterministic encoding of the parameters, for idempotency checks.
func (f form) canonical() string { return f.v.Encode() }
