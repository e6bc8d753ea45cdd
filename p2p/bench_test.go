package p2p

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSend measures one-way messages of 200 bytes from one transport
// to another over loopback TLS, counted when the receiver's handler has
// them. A full queue makes the sender yield and retry, so every message
// arrives.
func BenchmarkSend(b *testing.B) {
	recv := startNode(b, "net", "b", nil)
	var got atomic.Int64
	recv.Handle(chMsg, func(string, Channel, []byte) { got.Add(1) })
	send := startNode(b, "net", "a", nil)
	if err := send.AddPeer("b", recv.Addr().String()); err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 200)
	for got.Load() == 0 { // wait for the connection
		send.Send("b", chMsg, payload)
		time.Sleep(time.Millisecond)
	}
	got.Store(0)
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for {
			err := send.Send("b", chMsg, payload)
			if err == nil {
				break
			}
			if !errors.Is(err, ErrQueueFull) {
				b.Fatal(err)
			}
			runtime.Gosched()
		}
	}
	for got.Load() < int64(b.N) {
		time.Sleep(50 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
