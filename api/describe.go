package api

import (
	"encoding/hex"
	"encoding/json"
	"strconv"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/accord-chain/accord/contracts/governance/govcall"
	govpb "github.com/accord-chain/accord/contracts/governance/pb"
	"github.com/accord-chain/accord/contracts/pay"
	"github.com/accord-chain/accord/contracts/token"
)

// govArgs names the arguments message of each governance method.
var govArgs = map[string]func() proto.Message{
	govcall.MethodSubmit:       func() proto.Message { return new(govpb.SubmitArgs) },
	govcall.MethodPropose:      func() proto.Message { return new(govpb.ProposeArgs) },
	govcall.MethodVote:         func() proto.Message { return new(govpb.VoteArgs) },
	govcall.MethodRevoke:       func() proto.Message { return new(govpb.RevokeArgs) },
	govcall.MethodRegisterCert: func() proto.Message { return new(govpb.RegisterCertArgs) },
	govcall.MethodRegisterKey:  func() proto.Message { return new(govpb.KeyArgs) },
	govcall.MethodRemoveKey:    func() proto.Message { return new(govpb.KeyArgs) },
}

// describeArgs renders a native contract's call arguments as a flat JSON
// object of strings for readers (TxView.args_json, the explorer): numbers
// as decimal strings so that JSON readers never round, bytes as hex, a
// governance change as its JSON. It is for display only; the contracts
// decide validity. Arguments it cannot read are left out ("").
func describeArgs(contract, method string, args []byte) string {
	var (
		v   map[string]string
		err error
	)
	switch contract {
	case token.Name:
		v, err = token.DescribeArgs(method, args)
	case pay.Name:
		v, err = pay.DescribeArgs(method, args)
	case govcall.Name:
		mk, ok := govArgs[method]
		if !ok {
			return ""
		}
		m := mk()
		if err = proto.Unmarshal(args, m); err == nil {
			v = flatten(m.ProtoReflect())
		}
	default:
		return ""
	}
	if err != nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// flatten renders each set field of m but its version.
func flatten(m protoreflect.Message) map[string]string {
	out := make(map[string]string)
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		name := string(fd.Name())
		if name == "version" {
			return true
		}
		switch {
		case fd.IsList() || fd.IsMap():
			out[name] = "(" + strconv.Itoa(listLen(val)) + " entries)"
		case fd.Kind() == protoreflect.BytesKind && name == "change":
			if ch, err := govcall.DecodeChange(val.Bytes()); err == nil {
				if b, err := json.Marshal(ch); err == nil {
					out[name] = string(b)
					break
				}
			}
			out[name] = hex.EncodeToString(val.Bytes())
		case fd.Kind() == protoreflect.BytesKind:
			out[name] = hex.EncodeToString(val.Bytes())
		case fd.Kind() == protoreflect.MessageKind:
			b, _ := protojson.MarshalOptions{UseProtoNames: true}.Marshal(val.Message().Interface())
			out[name] = string(b)
		case fd.Kind() == protoreflect.EnumKind:
			if ev := fd.Enum().Values().ByNumber(val.Enum()); ev != nil {
				out[name] = string(ev.Name())
			} else {
				out[name] = strconv.Itoa(int(val.Enum()))
			}
		default:
			out[name] = val.String()
		}
		return true
	})
	return out
}

func listLen(v protoreflect.Value) int {
	if l, ok := v.Interface().(protoreflect.List); ok {
		return l.Len()
	}
	if m, ok := v.Interface().(protoreflect.Map); ok {
		return m.Len()
	}
	return 0
}
