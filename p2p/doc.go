// Package p2p is the node-to-node transport: it moves opaque byte messages
// between named nodes over mutual TLS 1.3 and answers requests with the
// handlers registered per channel.
//
// It owns connections, certificate checks, reconnection, per-peer send
// queues and framing. It must not know what the bytes mean (Raft messages,
// blocks or transactions belong to its callers), must not decide who is a
// member of the network (callers add and remove peers), and must never
// block a sender: a full queue drops and counts.
//
// # Identity
//
// Every node holds a certificate signed by the network's CA; its node ID is
// the certificate's Subject CommonName. Both ends verify the other's chain
// against the CA pool; the dialling end also checks that the CommonName is
// the ID it meant to reach. Addresses are not part of the identity (the
// certificate's IP and DNS names are not checked), so a peer may be reached
// through a proxy or a changed address and still be recognised.
//
// # Connections
//
// Each node dials every peer in its peer set and keeps one outbound
// connection per peer, redialled with exponential back-off. Messages and
// requests a node sends go out on its own outbound connection; the node
// that accepted it only reads messages and requests from it and writes
// responses back on it. A pair of nodes therefore holds two connections,
// one per direction. This is simpler than sharing one connection per pair
// (no race between two simultaneous dials to break), each end checks the
// CommonName it expected when it dials, and a node that is not yet in a
// peer's set (a node being added) can already send to it and have its
// requests answered.
//
// # Frames
//
// Every frame is a 15-byte header followed by the payload:
//
//	offset  size  field
//	0       1     version, 1 (a node refuses any other)
//	1       1     kind: 1 message, 2 request, 3 response, 4 error response
//	2       1     channel, chosen by the caller (Raft, block sync, ...)
//	3       8     request id, big-endian; 0 for a message, non-zero otherwise
//	11      4     payload length in bytes, big-endian
//	15      n     payload
//
// The payload length is checked against Config.MaxFrame before anything is
// allocated for it, and a large payload's buffer grows only as its bytes
// arrive. An error response carries the handler's error text. A response
// answers the request with the same id, on the connection the request came
// in on. Messages on one connection are delivered in the order they were
// sent; a message queued for a peer that is down waits in the bounded queue
// and may be lost when a connection breaks, as Raft expects of a network.
package p2p
