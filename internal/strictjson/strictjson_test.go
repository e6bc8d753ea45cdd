package strictjson

import "testing"

func TestDecode(t *testing.T) {
	var v struct{ A int }
	if err := Decode([]byte(`{"A":1}`), &v); err != nil || v.A != 1 {
		t.Fatalf("Decode of a known field: %v %+v", err, v)
	}
	for _, bad := range []string{`{"B":1}`, `{"A":1} {"A":2}`, `{"A":"x"}`, ``} {
		if err := Decode([]byte(bad), &v); err == nil {
			t.Errorf("Decode(%q) accepted it", bad)
		}
	}
}
