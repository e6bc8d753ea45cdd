//go:build !wasip1

package contract

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/accord-chain/accord/crypto"
)

type args struct {
	To     string `json:"to"`
	Amount uint64 `json:"amount"`
}

func decodeWith(raw string) (args, error) {
	m := NewMock()
	m.args = []byte(raw)
	var a args
	err := Decode(m.Context(), &a)
	return a, err
}

func TestDecode(t *testing.T) {
	if a, err := decodeWith(`{"to":"bob","amount":5}`); err != nil || a != (args{"bob", 5}) {
		t.Fatalf("decode = %+v, %v; want bob 5", a, err)
	}
	if a, err := decodeWith("  "); err != nil || a != (args{}) {
		t.Fatalf("empty args = %+v, %v; want the zero value", a, err)
	}
	for _, bad := range []string{`{"too":"bob"}`, `{"amount":-1}`, `{"to":"a"} {}`, `[`, `"x"`} {
		if _, err := decodeWith(bad); !errors.Is(err, ErrBadArgs) {
			t.Errorf("decode %s: %v; want ErrBadArgs", bad, err)
		}
	}
}

func TestMockKeepsOnlySuccessfulCalls(t *testing.T) {
	m := NewMock()
	m.CallerAddr = "alice"
	ok := func(ctx Context) (any, error) {
		ctx.Put("a", []byte("1"))
		ctx.Delete("gone")
		if err := EmitJSON(ctx, "did", map[string]string{"by": ctx.Caller()}); err != nil {
			return nil, err
		}
		v, found := ctx.Get("a")
		return map[string]any{"a": string(v), "found": found}, nil
	}
	fail := func(ctx Context) (any, error) {
		ctx.Put("a", []byte("2"))
		ctx.Emit("never", nil)
		return nil, errors.New("no")
	}
	m.State["gone"] = []byte("x")
	res, err := m.Call(ok, nil)
	if err != nil || string(res) != `{"a":"1","found":true}` {
		t.Fatalf("ok = %s, %v; want the pending write visible to the call", res, err)
	}
	if _, err := m.Call(fail, nil); !errors.Is(err, ErrReverted) || !strings.Contains(err.Error(), "no") {
		t.Fatalf("fail: %v; want ErrReverted with the message", err)
	}
	if string(m.State["a"]) != "1" || m.State["gone"] != nil || len(m.Events) != 1 || string(m.Events[0].Data) != `{"by":"alice"}` {
		t.Fatalf("state %q, events %+v; want a=1, gone deleted, one event from the successful call", m.State, m.Events)
	}
}

func TestWarmAcceptsValuesAndPointers(t *testing.T) {
	Warm(args{}, &args{}, 3, nil, make(chan int)) // unencodable values are skipped
}

func TestHashesAndSignatures(t *testing.T) {
	if got := SHA256([]byte("abc")); hex.EncodeToString(got[:]) != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("SHA256(abc) = %x", got)
	}
	if got := SM3([]byte("abc")); hex.EncodeToString(got[:]) != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" {
		t.Errorf("SM3(abc) = %x", got)
	}
	key, err := crypto.GenerateKey(crypto.Ed25519, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := key.Sign([]byte("msg"))
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().Bytes()
	if !VerifySignature(Ed25519, pub, []byte("msg"), sig) || VerifySignature(Ed25519, pub, []byte("other"), sig) ||
		VerifySignature(SM2, pub, []byte("msg"), sig) {
		t.Fatal("VerifySignature must accept only the signed message under its scheme")
	}
}

func TestCompositeKeysAndScans(t *testing.T) {
	m := NewMock()
	fill := func(ctx Context) (any, error) {
		for i := 0; i < 250; i++ {
			ctx.Put(Key("owner", fmt.Sprintf("alice%03d", i)), []byte{byte(i)})
		}
		ctx.Put(Key("owner", "bob"), nil)
		ctx.Put(Key("owners"), []byte("x")) // must not match the owner prefix
		ctx.Delete(Key("owner", "alice007"))
		var n int
		last := ""
		ScanPrefix(ctx, Key("owner"), func(k string, v []byte) bool {
			if k <= last {
				t.Errorf("key %q after %q: not ascending", k, last)
			}
			last = k
			n++
			return true
		})
		parts, err := SplitKey(last)
		return map[string]any{"n": n, "last": parts}, err
	}
	res, err := m.Call(fill, nil)
	if err != nil || string(res) != `{"last":["owner","bob"],"n":250}` {
		t.Fatalf("scan = %s, %v; want 250 entries (249 alices and bob), last owner/bob", res, err)
	}
	var first []string
	Scan(m.Context(), Key("owner", "alice100"), Key("owner", "alice103"), func(k string, v []byte) bool {
		first = append(first, k)
		return len(first) < 2
	})
	if len(first) != 2 || first[0] != Key("owner", "alice100") {
		t.Fatalf("bounded scan stopped by fn = %q; want alice100 and alice101", first)
	}
	if _, err := SplitKey("plain"); !errors.Is(err, ErrBadKey) {
		t.Fatalf("SplitKey(plain) = %v; want ErrBadKey", err)
	}
}

func TestDecodeEntries(t *testing.T) {
	b := []byte{1, 1, 0, 0, 0, 'k', 2, 0, 0, 0, 'v', 'w', 0, 0, 0, 0, 0, 0, 0, 0}
	es, more, err := decodeEntries(b)
	if err != nil || !more || len(es) != 2 || es[0].Key != "k" || string(es[0].Value) != "vw" || es[1].Key != "" {
		t.Fatalf("decode = %+v %v %v", es, more, err)
	}
	for _, bad := range [][]byte{nil, {2}, {0, 1, 0}, {0, 5, 0, 0, 0, 'k'}, {0, 0, 0, 0, 0}} {
		if _, _, err := decodeEntries(bad); !errors.Is(err, ErrBadEntries) {
			t.Errorf("decode %v: %v; want ErrBadEntries", bad, err)
		}
	}
}

// FuzzDecodeEntries: the host's range encoding must never crash the SDK,
// and what decodes must re-encode to the same bytes.
func FuzzDecodeEntries(f *testing.F) {
	f.Add([]byte{1, 1, 0, 0, 0, 'k', 2, 0, 0, 0, 'v', 'w'})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		es, more, err := decodeEntries(b)
		if err != nil {
			return
		}
		out := []byte{0}
		if more {
			out[0] = 1
		}
		for _, e := range es {
			out = binary.LittleEndian.AppendUint32(out, uint32(len(e.Key)))
			out = append(out, e.Key...)
			out = binary.LittleEndian.AppendUint32(out, uint32(len(e.Value)))
			out = append(out, e.Value...)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding %x gave %x", b, out)
		}
	})
}
