// Command accord runs and drives Accord nodes. All of it lives in
// internal/cli so that it can be tested in-process.
package main

import (
	"os"

	"github.com/accord-chain/accord/internal/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr)) }
