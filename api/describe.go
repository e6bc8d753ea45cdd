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
	"github.com/accord-chain/accord/contracts/pay/paycall"
	paypb "github.com/accord-chain/accord/contracts/pay/pb"
	"github.com/accord-chain/accord/contracts/token"
)

// argMessages names the arguments message of each method of the native
// contracts whose calls are described field by field.
var argMessages = map[string]map[string]func() proto.Message{
	paycall.Name: {
		paycall.MethodAddMerchant: func() proto.Message { return new(paypb.AddMerchantArgs) },
		paycall.MethodRequest:     func() proto.Message { return new(paypb.RequestArgs) },
		paycall.MethodCancel:      func() proto.Message { return new(paypb.CancelArgs) },
		paycall.MethodPay:         func() proto.Message { return new(paypb.PayArgs) },
		paycall.MethodRefund:      func() proto.Message { return new(paypb.RefundArgs) },
	},
	govcall.Name: {
		govcall.MethodSubmit:       func() proto.Message { return new(govpb.SubmitArgs) },
		govcall.MethodPropose:      func() proto.Message { return new(govpb.ProposeArgs) },
		govcall.MethodVote:         func() proto.Message { return new(govpb.VoteArgs) },
		govcall.MethodRevoke:       func() proto.Message { return new(govpb.RevokeArgs) },
		govcall.MethodRegisterCert: func() proto.Message { return new(govpb.RegisterCertArgs) },
		govcall.MethodRegisterKey:  func() proto.Message { return new(govpb.KeyArgs) },
		govcall.MethodRemoveKey:    func() proto.Message { return new(govpb.KeyArgs) },
	},
}

// describeArgs renders a native contract's call arguments as a flat JSON
// object of strings for readers (TxView.args_json, the explorer): bytes as
// hex, numbers as decimal strings so that JSON readers never round, a
// governance change decoded. It is for display only; the contracts decide
// validity. Arguments it cannot read are left out ("").
func describeArgs(contract, method string, args []byte) string {
	var v map[string]string
	if contract == token.Name {
		var err error
		if v, err = token.DescribeArgs(method, args); err != nil {
			return ""
		}
	} else if mk, ok := argMessages[contract][method]; ok {
		m := mk()
		if proto.Unmarshal(args, m) != nil {
			return ""
		}
		v = flatten(m.ProtoReflect())
	} else {
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
