// Package pb holds the node-to-node messages (proto/accord/p2p/v1), and
// Decode, the one way to read them from bytes another node sent.
package pb

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Version is the version every message is sent with and the only one
// Decode accepts.
const Version = 1

// ErrMalformed marks bytes from another node that are not the message
// expected: undecodable, another version, or fields this release does not
// know (the peer runs a newer one: upgrade this node).
var ErrMalformed = errors.New("malformed node-to-node message")

// Message is a node-to-node message: it carries a version.
type Message interface {
	proto.Message
	GetVersion() uint32
}

// Marshal encodes m, which must carry Version.
func Marshal(m Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("p2p/pb: encoding %T: %v", m, err)) // only invalid UTF-8 fails, never in a message built here
	}
	return b
}

// Decode decodes b into m and refuses it unless it is version Version and
// holds no field this release does not know, at any depth.
func Decode(b []byte, m Message) error {
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("%w: %T: %v", ErrMalformed, m, err)
	}
	if v := m.GetVersion(); v != Version {
		return fmt.Errorf("%w: %T version %d, this node speaks version %d (run the same release on every node)", ErrMalformed, m, v, Version)
	}
	if unknownFields(m.ProtoReflect()) {
		return fmt.Errorf("%w: %T has fields this node does not know (run the same release on every node)", ErrMalformed, m)
	}
	return nil
}

// unknownFields reports whether m or a message inside it holds unknown
// fields.
func unknownFields(m protoreflect.Message) bool {
	if len(m.GetUnknown()) > 0 {
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil || fd.IsMap() {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len() && !found; i++ {
				found = unknownFields(l.Get(i).Message())
			}
		} else {
			found = unknownFields(v.Message())
		}
		return !found
	})
	return found
}
