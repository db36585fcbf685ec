package codec

import (
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// EachPayload calls fn with every payload in m (a history event, say), except search
// attributes, which the server indexes and no codec encodes: they carry only ids and
// enums. The tests use it to show that what the server holds is ciphertext.
func EachPayload(m protoreflect.Message, fn func(*commonpb.Payload)) {
	if p, ok := m.Interface().(*commonpb.Payload); ok {
		fn(p)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Name() == "search_attributes" || fd.Kind() != protoreflect.MessageKind {
			return true
		}
		switch {
		case fd.IsList():
			for i := 0; i < v.List().Len(); i++ {
				EachPayload(v.List().Get(i).Message(), fn)
			}
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					EachPayload(mv.Message(), fn)
					return true
				})
			}
		default:
			EachPayload(v.Message(), fn)
		}
		return true
	})
}
