//go:build !unix

package api

// RaiseFileLimit does nothing where there is no open-file limit to raise.
func RaiseFileLimit() (uint64, error) { return 0, nil }

func openFileLimit() (uint64, bool) { return 0, false }
