package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/keystore"
)

type keyView struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Scheme  string `json:"scheme"`
}

func viewKey(k *keystore.Key) keyView {
	return keyView{Name: k.Name, Address: k.Address.String(), Scheme: k.Scheme.String()}
}

func keysCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage signing keys in a key folder"}
	var scheme string
	newCmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Create a key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := crypto.ParseScheme(scheme)
			if err != nil {
				return fmt.Errorf("--crypto %q: want ed25519, sm2 or p256", scheme)
			}
			ks, err := keystore.Open(e.keys)
			if err != nil {
				return err
			}
			k, err := ks.New(args[0], s)
			if err != nil {
				return err
			}
			return printKey(e, k)
		},
	}
	newCmd.Flags().StringVar(&scheme, "crypto", "ed25519", "signature scheme: ed25519, sm2 or p256")
	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Listing must not create the folder: a mistyped --keys
			// would otherwise look like an empty key folder.
			if _, err := os.Stat(e.keys); errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("no key folder at %s: create a key there with `accord keys new NAME --keys %s`, or point --keys (or $%s) at an existing folder", e.keys, e.keys, EnvKeys)
			} else if err != nil {
				return err
			}
			ks, err := keystore.Open(e.keys)
			if err != nil {
				return err
			}
			keys, err := ks.List()
			if err != nil {
				return err
			}
			views := make([]keyView, 0, len(keys))
			for _, k := range keys {
				views = append(views, viewKey(k))
			}
			return e.print(views, func(w io.Writer) {
				for _, v := range views {
					fmt.Fprintf(w, "%-16s %s %s\n", v.Name, v.Address, v.Scheme)
				}
			})
		},
	}
	var addressOnly bool
	showCmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a key's address and scheme",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, err := keystore.Open(e.keys)
			if err != nil {
				return err
			}
			k, err := ks.Get(args[0])
			if err != nil {
				return err
			}
			if addressOnly {
				_, err := fmt.Fprintln(e.stdout, k.Address)
				return err
			}
			return printKey(e, k)
		},
	}
	showCmd.Flags().BoolVar(&addressOnly, "address", false, "print only the address, for scripts")
	for _, c := range []*cobra.Command{newCmd, listCmd, showCmd} {
		keysFlag(c, e)
		cmd.AddCommand(c)
	}
	return cmd
}

func printKey(e *env, k *keystore.Key) error {
	v := viewKey(k)
	return e.print(v, func(w io.Writer) {
		fmt.Fprintf(w, "name:    %s\naddress: %s\nscheme:  %s\n", v.Name, v.Address, v.Scheme)
	})
}
