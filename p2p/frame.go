package p2p

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Channel tells the receiver which handler a frame is for. The values are
// the callers' to choose; p2p gives none of them a meaning.
type Channel byte

const (
	frameVersion = 1
	headerLen    = 15
	// readChunk bounds what one step of reading a payload allocates, so a
	// header that promises a large payload costs memory only as the
	// payload's bytes actually arrive.
	readChunk = 1 << 20
)

// Frame errors end the connection they arrive on and show in
// PeerStatus.LastError and the log.
var (
	// ErrFrameTooLarge means a payload exceeds Config.MaxFrame.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrBadFrame means bytes on a connection are not a valid frame.
	ErrBadFrame = errors.New("malformed frame")
)

type kind byte

const (
	kindMessage  kind = 1
	kindRequest  kind = 2
	kindResponse kind = 3
	kindError    kind = 4
	kindIdentity kind = 5 // the first frame each way when Config.Identity is set
)

func (k kind) String() string {
	switch k {
	case kindMessage:
		return "message"
	case kindRequest:
		return "request"
	case kindResponse:
		return "response"
	case kindError:
		return "error response"
	case kindIdentity:
		return "identity proof"
	}
	return fmt.Sprintf("kind %d", byte(k))
}

// frame is one unit on the wire; see the package comment for its layout.
type frame struct {
	kind    kind
	ch      Channel
	id      uint64
	payload []byte
}

// writeFrame appends f to w; the caller flushes.
func writeFrame(w *bufio.Writer, f *frame) error {
	var h [headerLen]byte
	h[0] = frameVersion
	h[1] = byte(f.kind)
	h[2] = byte(f.ch)
	binary.BigEndian.PutUint64(h[3:11], f.id)
	binary.BigEndian.PutUint32(h[11:15], uint32(len(f.payload)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(f.payload)
	return err
}

// readFrame reads one frame whose payload is at most max bytes. It returns
// io.EOF only when r ends cleanly between frames.
func readFrame(r io.Reader, max int) (frame, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return frame{}, err
	}
	if h[0] != frameVersion {
		return frame{}, fmt.Errorf("%w: version %d, this node speaks version %d: run the same release on every node", ErrBadFrame, h[0], frameVersion)
	}
	f := frame{
		kind: kind(h[1]),
		ch:   Channel(h[2]),
		id:   binary.BigEndian.Uint64(h[3:11]),
	}
	switch f.kind {
	case kindMessage, kindIdentity:
		if f.id != 0 {
			return frame{}, fmt.Errorf("%w: message with request id %d", ErrBadFrame, f.id)
		}
	case kindRequest, kindResponse, kindError:
		if f.id == 0 {
			return frame{}, fmt.Errorf("%w: %v without a request id", ErrBadFrame, f.kind)
		}
	default:
		return frame{}, fmt.Errorf("%w: unknown %v", ErrBadFrame, f.kind)
	}
	n := binary.BigEndian.Uint32(h[11:15])
	if uint64(n) > uint64(max) {
		return frame{}, fmt.Errorf("%w: %d-byte payload, the limit is %d bytes (MaxFrame)", ErrFrameTooLarge, n, max)
	}
	p, err := readPayload(r, int(n))
	if err != nil {
		return frame{}, err
	}
	f.payload = p
	return f, nil
}

func readPayload(r io.Reader, n int) ([]byte, error) {
	if n <= readChunk {
		p := make([]byte, n)
		if _, err := io.ReadFull(r, p); err != nil {
			return nil, noEOF(err)
		}
		return p, nil
	}
	p := make([]byte, 0, readChunk)
	for len(p) < n {
		m := min(readChunk, n-len(p))
		if cap(p)-len(p) < m {
			// Double, but never past n: the header is trusted only as far
			// as the bytes that have already arrived.
			q := make([]byte, len(p), min(2*cap(p), n))
			copy(q, p)
			p = q
		}
		if _, err := io.ReadFull(r, p[len(p):len(p)+m]); err != nil {
			return nil, noEOF(err)
		}
		p = p[:len(p)+m]
	}
	return p, nil
}

// noEOF turns a clean end inside a frame into the truncation it is.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
