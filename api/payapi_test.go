package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// TestPayReads pages the merchant list, reads what does not exist and a
// statement of a day without payments, and refuses bad input with
// invalid_argument.
func TestPayReads(t *testing.T) {
	url, admin := testNode(t)
	c := sdk.New(url)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	owner := types.AddressOf(admin.Scheme(), admin.Public().Bytes())
	ids := []string{"a", "b", "c", "d", "e"}
	for _, id := range ids {
		tx, err := c.Sign(ctx, admin, sdk.Call{Contract: paycall.Name, Method: paycall.MethodAddMerchant, Args: paycall.AddMerchant(id, "Shop "+id, owner)})
		if err != nil {
			t.Fatal(err)
		}
		txid, err := c.Submit(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.WaitOK(ctx, txid); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		r, err := c.Merchants(ctx, 2, after)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Merchants) > 2 || pages > 5 {
			t.Fatalf("page %d: %d merchants, next %q", pages, len(r.Merchants), r.Next)
		}
		for _, m := range r.Merchants {
			got = append(got, m.Id)
			if m.Owner != owner.String() || m.CreatedHeight == 0 {
				t.Fatalf("merchant %+v, want owner %s and a height", m, owner)
			}
		}
		if after = r.Next; after == "" {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("paged merchants %v, want %v", got, ids)
	}

	if _, err := c.Merchant(ctx, "zz"); !sdk.IsNotFound(err) {
		t.Errorf("an unknown merchant: %v, want not_found", err)
	}
	if _, err := c.Payment(ctx, types.Hash{1}); !sdk.IsNotFound(err) {
		t.Errorf("an unknown payment: %v, want not_found", err)
	}
	if _, err := c.PaymentRequest(ctx, types.Hash{1}); !sdk.IsNotFound(err) {
		t.Errorf("an unknown request: %v, want not_found", err)
	}
	st, err := c.Statement(ctx, "a", "2001-01-01", true)
	if err != nil || st.Payments.GetCount() != 0 || st.Refunds.GetSum() != 0 || st.Net != 0 || st.MerkleRoot != "" || len(st.Entries) != 0 {
		t.Errorf("a day without payments: %v, %v; want zeros and no root", st, err)
	}
	if _, err := c.Statement(ctx, "zz", "2001-01-01", false); !sdk.IsNotFound(err) {
		t.Errorf("the statement of an unknown merchant: %v, want not_found", err)
	}
	for what, err := range map[string]error{
		"a bad day":       second(c.Statement(ctx, "a", "01/01/2001", false)),
		"a bad merchant":  second(c.Merchant(ctx, "a/b")),
		"a bad after":     second(c.Merchants(ctx, 1, "a b")),
		"a limit of 5000": second(c.Merchants(ctx, 5000, "")),
		"a bad cursor":    second(c.AccountTxs(ctx, owner, 10, "x")),
		"a history limit": second(c.AccountTxs(ctx, owner, 5000, "")),
	} {
		if connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("%s: %v, want invalid_argument", what, err)
		}
	}
	// The admin sent the five registrations: its history, newest first.
	h, err := c.AccountTxs(ctx, owner, 0, "")
	if err != nil || len(h.Txs) != 5 || h.Txs[0].Method != paycall.MethodAddMerchant || h.Txs[0].Height < h.Txs[4].Height {
		t.Errorf("the admin's history: %v, %v", h, err)
	}
}

func second[T any](_ T, err error) error { return err }
