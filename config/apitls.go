package config

import (
	"errors"
	"fmt"
)

// APITLS is the api_tls section of config.json.
type APITLS struct {
	// Cert and Key are PEM files, relative to the node home: the API's
	// certificate (optionally followed by its chain) and key. Default the
	// node's network certificate, tls/node.pem and tls/node.key, which
	// clients trust with the network CA's certificate.
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
	// ClientAuth is "none" (the default: TLS only, anyone who reaches the
	// port may call) or "member": every request but /healthz must carry a
	// member proof (header Accord-Member-Proof) of a certificate the chain's
	// committed configuration accepts now, in any role. "member" needs a
	// permissioned chain.
	ClientAuth string `json:"client_auth,omitempty"`
}

// Values of APITLS.ClientAuth.
const (
	ClientAuthNone   = "none"
	ClientAuthMember = "member"
)

func (c *APITLS) validate() error {
	if c == nil {
		return nil
	}
	switch c.ClientAuth {
	case "", ClientAuthNone, ClientAuthMember:
	default:
		return fmt.Errorf("config: api_tls.client_auth %q: want %q or %q", c.ClientAuth, ClientAuthNone, ClientAuthMember)
	}
	if (c.Cert == "") != (c.Key == "") {
		return errors.New("config: api_tls: give both cert and key, or neither for tls/node.pem and tls/node.key")
	}
	return nil
}
