// Package types holds Accord's core data types: transactions, blocks,
// headers, receipts, hashes and addresses, with their canonical encodings.
//
// It owns the byte-level rules every node must agree on: how a transaction
// is decoded, which fields are required, how ids and roots are computed.
// It must not do I/O, keep state, or know about the pool, consensus or
// execution. The protobuf schema lives in proto/ and is generated into pb/.
package types
