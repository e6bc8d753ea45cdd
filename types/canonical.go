package types

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ErrNotCanonical is returned by DecodeCanonical for bytes that are not the
// one encoding of a message this node knows.
var ErrNotCanonical = errors.New("not a canonical encoding")

// EncodeCanonical encodes m deterministically: fields in number order,
// packed lists, no default values. Encodings that are stored in state,
// hashed or signed use it, so that one value has one encoding.
func EncodeCanonical(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		// Only invalid UTF-8 in a string field fails, and every message
		// encoded here was built from Go strings checked by its owner.
		panic(fmt.Sprintf("types: encoding %T: %v", m, err))
	}
	return b
}

// DecodeCanonical decodes b into m and accepts only what EncodeCanonical
// writes: no field m does not know, at any depth, and no other encoding
// of the same value (fields out of order, repeated or set to defaults).
// Errors wrap ErrNotCanonical and name the message, not protobuf's
// reason, whose text varies between runs by design: an error that ends up
// in a receipt must read the same on every node.
func DecodeCanonical(b []byte, m proto.Message) error {
	_, err := decodeCanonical(b, m)
	return err
}

// Versioned is a message with a format version that only goes up.
type Versioned interface {
	proto.Message
	GetVersion() uint32
}

// DecodeVersioned decodes b into m as DecodeCanonical does, and refuses a
// version other than want. A well-formed message of another version is
// reported as such rather than as unknown fields, which a newer version
// would usually bring too.
func DecodeVersioned(b []byte, m Versioned, want uint32) error {
	parsed, err := decodeCanonical(b, m)
	if v := m.GetVersion(); parsed && v != want {
		return fmt.Errorf("%w: %s version %d, this node knows %d (was it written by a newer release?)",
			ErrNotCanonical, m.ProtoReflect().Descriptor().Name(), v, want)
	}
	return err
}

func decodeCanonical(b []byte, m proto.Message) (parsed bool, err error) {
	name := m.ProtoReflect().Descriptor().Name()
	if err := proto.Unmarshal(b, m); err != nil {
		return false, fmt.Errorf("%w: not a valid %s message", ErrNotCanonical, name)
	}
	if unknownFields(m.ProtoReflect()) {
		return true, fmt.Errorf("%w: %s has fields this node does not know (was it written by a newer release?)", ErrNotCanonical, name)
	}
	if !bytes.Equal(EncodeCanonical(m), b) {
		return true, fmt.Errorf("%w: %s is not in canonical form (fields out of order, repeated or set to their default)", ErrNotCanonical, name)
	}
	return true, nil
}

// unknownFields reports whether m or any message inside it holds fields
// its schema does not define.
func unknownFields(m protoreflect.Message) bool {
	if len(m.GetUnknown()) > 0 {
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && !found; i++ {
				found = unknownFields(l.Get(i).Message())
			}
		case fd.IsMap():
			if k := fd.MapValue().Kind(); k != protoreflect.MessageKind && k != protoreflect.GroupKind {
				return true
			}
			mv := v.Map()
			mv.Range(func(_ protoreflect.MapKey, e protoreflect.Value) bool {
				found = unknownFields(e.Message())
				return !found
			})
		default:
			found = unknownFields(v.Message())
		}
		return !found
	})
	return found
}
