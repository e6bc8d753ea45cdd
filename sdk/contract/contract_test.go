package contract

import (
	"errors"
	"strings"
	"testing"
)

type args struct {
	To     string `json:"to"`
	Amount uint64 `json:"amount"`
}

func decodeWith(raw string) (args, error) {
	m := NewMock()
	m.args = []byte(raw)
	var a args
	err := Decode(m, &a)
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
