package main

import "github.com/accord-chain/accord/sdk/contract"

// Context is what land needs of the host.
type Context interface {
	contract.Context
	PolicySatisfied(policy string, approvals []policyApproval) (bool, error)
}

type policyApproval struct{ Org, Role string }
