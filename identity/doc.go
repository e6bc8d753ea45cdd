// Package identity owns Accord's permissioned membership model:
// organisations and their certificate authorities, member certificates and
// the roles they carry, the membership view a node builds from the chain
// configuration, method and governance policies, and endorsements of
// configuration changes.
//
// A member's organisation and role travel in its X.509 certificate, as in
// Hyperledger Fabric's NodeOUs: Subject O is the organisation id, Subject
// OU the role (admin, client, consensus or light) and Subject CN the
// member's name. A certificate is valid for an organisation only when one of
// that organisation's CA certificates, listed in the chain configuration,
// signed it directly (no intermediates). SM2 CAs sign with SM2-with-SM3
// and the default user id; P-256 CAs with ECDSA-with-SHA256, low-S only.
//
// Every verdict is consensus critical: it depends only on its inputs (the
// configuration, the certificate bytes and the block time), never on the
// wall clock, randomness or map order. Issuing certificates reads
// randomness; verifying never does.
//
// The package must not do I/O or import the node, api, store, txpool,
// execution or consensus packages: the caller persists the configuration
// and the registered members and decides when a change is applied.
package identity
