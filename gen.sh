#!/usr/bin/env bash
# Regenerates the Go code from proto/. Needs protoc, protoc-gen-go and
# protoc-gen-connect-go on PATH (see docs/architecture.md). The output is
# committed, so building Accord needs none of them.
set -euo pipefail
cd "$(dirname "$0")"
protoc -I proto \
  --go_out=. --go_opt=module=github.com/accord-chain/accord \
  --connect-go_out=. --connect-go_opt=module=github.com/accord-chain/accord \
  accord/types/v1/types.proto accord/api/v1/api.proto accord/p2p/v1/p2p.proto \
  accord/identity/v1/identity.proto accord/governance/v1/governance.proto \
  accord/pay/v1/pay.proto accord/bft/v1/bft.proto
