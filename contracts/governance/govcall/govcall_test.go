package govcall

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	govpb "github.com/accord-chain/accord/contracts/governance/pb"
	"github.com/accord-chain/accord/types"
)

func withUnknown(b []byte) []byte {
	return protowire.AppendVarint(protowire.AppendTag(append([]byte(nil), b...), 99, protowire.VarintType), 1)
}

// TestDecodeChangeRefusesOtherEncodings: a change decodes only from the
// one encoding Encode writes, so one change has one digest to endorse.
func TestDecodeChangeRefusesOtherEncodings(t *testing.T) {
	good := &Change{Kind: KindSetParams, Params: &Params{MaxBlockTxs: 10}}
	if c, err := DecodeChange(good.Encode()); err != nil || c.Params == nil || c.Params.MaxBlockTxs != 10 {
		t.Fatalf("DecodeChange(Encode) = %+v, %v", c, err)
	}
	params := &govpb.Params{Version: Version, MaxBlockTxs: 10}
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"json, as before":   {[]byte(`{"kind":"set_params","params":{"max_block_txs":10}}`), "not a valid Change"},
		"newer version":     {types.EncodeCanonical(&govpb.Change{Version: 2, Kind: KindSetParams, Params: params}), "Change version 2, this node knows 1"},
		"no version":        {types.EncodeCanonical(&govpb.Change{Kind: KindSetParams, Params: params}), "Change version 0"},
		"unknown field":     {withUnknown(good.Encode()), "does not know"},
		"params of version": {types.EncodeCanonical(&govpb.Change{Version: Version, Kind: KindSetParams, Params: &govpb.Params{Version: 3}}), "Params version 3"},
		"explicit default":  {append(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1), protowire.AppendString(protowire.AppendTag(protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), KindRemoveOrg), 3, protowire.BytesType), "")...), "not in canonical form"},
		"shape":             {(&Change{Kind: KindSetParams}).Encode(), "params is required"},
	} {
		_, err := DecodeChange(tc.b)
		if !errors.Is(err, ErrBadChange) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: DecodeChange = %v, want ErrBadChange saying %q", name, err, tc.want)
		}
	}
}

// TestDecodeArgsRefusesOtherEncodings: arguments decode only from their
// own version with no unknown field; each method's arguments round-trip.
func TestDecodeArgsRefusesOtherEncodings(t *testing.T) {
	vote := VoteArgs{ID: 7, Endorsements: []byte{1, 2}}
	var got VoteArgs
	if err := DecodeArgs(Args(vote), &got); err != nil || got.ID != 7 || string(got.Endorsements) != "\x01\x02" {
		t.Fatalf("DecodeArgs(Args(%+v)) = %+v, %v", vote, got, err)
	}
	key := KeyArgs{Org: "org1", Role: "client", Name: "n", Scheme: "ed25519", PublicKey: "00"}
	var k KeyArgs
	if err := DecodeArgs(Args(key), &k); err != nil || k != key {
		t.Fatalf("DecodeArgs(Args(%+v)) = %+v, %v", key, k, err)
	}
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"json, as before": {[]byte(`{"id":7}`), "not a valid VoteArgs"},
		"newer version":   {types.EncodeCanonical(&govpb.VoteArgs{Version: 2, Id: 7}), "VoteArgs version 2, this node knows 1"},
		"unknown field":   {withUnknown(Args(vote)), "does not know"},
	} {
		err := DecodeArgs(tc.b, &got)
		if !errors.Is(err, ErrBadArgs) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: DecodeArgs = %v, want ErrBadArgs saying %q", name, err, tc.want)
		}
	}
}
