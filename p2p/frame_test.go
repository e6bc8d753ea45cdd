package p2p

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
)

const maxFrame64MiB = 64 << 20 // the default MaxFrame

func encode(t testing.TB, fs ...frame) []byte {
	t.Helper()
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	for i := range fs {
		if err := writeFrame(w, &fs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestFrameRoundTrip(t *testing.T) {
	in := []frame{
		{kind: kindMessage, ch: 1, payload: []byte("raft")},
		{kind: kindRequest, ch: 2, id: 1, payload: []byte{}},
		{kind: kindResponse, ch: 2, id: 1 << 63, payload: bytes.Repeat([]byte{7}, 3*readChunk+5)},
		{kind: kindError, ch: 255, id: 9, payload: []byte("no such block")},
	}
	r := bytes.NewReader(encode(t, in...))
	for i, want := range in {
		got, err := readFrame(r, maxFrame64MiB)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got.kind != want.kind || got.ch != want.ch || got.id != want.id || !bytes.Equal(got.payload, want.payload) {
			t.Fatalf("frame %d: got kind %v ch %d id %d %d bytes, want kind %v ch %d id %d %d bytes",
				i, got.kind, got.ch, got.id, len(got.payload), want.kind, want.ch, want.id, len(want.payload))
		}
	}
	if _, err := readFrame(r, maxFrame64MiB); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestFrameLayout(t *testing.T) {
	got := encode(t, frame{kind: kindRequest, ch: 3, id: 0x0102030405060708, payload: []byte("hi")})
	want := []byte{1, 2, 3, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 2, 'h', 'i'}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoded % x, want % x (the layout in the package comment)", got, want)
	}
}

func header(version, k, ch byte, id uint64, n uint32) []byte {
	h := []byte{version, k, ch}
	h = binary.BigEndian.AppendUint64(h, id)
	return binary.BigEndian.AppendUint32(h, n)
}

func TestReadFrameRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []byte
		want error
	}{
		{"version 2", header(2, 1, 0, 0, 0), ErrBadFrame},
		{"kind 0", header(1, 0, 0, 0, 0), ErrBadFrame},
		{"kind 5", header(1, 5, 0, 1, 0), ErrBadFrame},
		{"message with an id", header(1, 1, 0, 7, 0), ErrBadFrame},
		{"request without an id", header(1, 2, 0, 0, 0), ErrBadFrame},
		{"response without an id", header(1, 3, 0, 0, 0), ErrBadFrame},
		{"over the limit", header(1, 1, 0, 0, 1025), ErrFrameTooLarge},
		{"the largest length", header(1, 1, 0, 0, 1<<32-1), ErrFrameTooLarge},
		{"short header", header(1, 1, 0, 0, 0)[:9], io.ErrUnexpectedEOF},
		{"short payload", append(header(1, 1, 0, 0, 10), "abc"...), io.ErrUnexpectedEOF},
	} {
		_, err := readFrame(bytes.NewReader(c.in), 1024)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// A header promising a huge payload costs memory only as its bytes arrive.
func TestReadFrameAllocatesAsBytesArrive(t *testing.T) {
	in := append(header(1, 1, 0, 0, maxFrame64MiB), make([]byte, 100)...)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, err := readFrame(bytes.NewReader(in), maxFrame64MiB); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("truncated 64 MiB frame: %v, want io.ErrUnexpectedEOF", err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 10; per > 2*readChunk {
		t.Fatalf("reading 115 bytes that promise 64 MiB allocated %d bytes, want at most %d", per, 2*readChunk)
	}
}

// FuzzReadFrame checks that arbitrary bytes never panic the decoder, never
// yield a payload over the limit, and that what decodes re-encodes to the
// same bytes (one encoding per frame).
func FuzzReadFrame(f *testing.F) {
	f.Add(encode(f, frame{kind: kindMessage, ch: 1, payload: []byte("raft")}))
	f.Add(encode(f, frame{kind: kindRequest, ch: 2, id: 1, payload: []byte("sync 10")},
		frame{kind: kindError, ch: 2, id: 1, payload: []byte("no")}))
	f.Add(encode(f, frame{kind: kindResponse, ch: 2, id: 5, payload: bytes.Repeat([]byte{1}, 5000)}))
	f.Add(header(1, 1, 0, 0, maxFrame64MiB))
	f.Add(header(1, 3, 0, 1, 1<<32-1))
	f.Add(header(2, 1, 0, 0, 0))
	f.Add([]byte{})
	const max = 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			start := len(data) - r.Len()
			fr, err := readFrame(r, max)
			if err != nil {
				return
			}
			if len(fr.payload) > max {
				t.Fatalf("payload of %d bytes over the limit %d", len(fr.payload), max)
			}
			end := len(data) - r.Len()
			if re := encode(t, fr); !bytes.Equal(re, data[start:end]) {
				t.Fatalf("decoded %x, re-encoded %x", data[start:end], re)
			}
		}
	})
}
