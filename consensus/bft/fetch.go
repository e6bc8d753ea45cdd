package bft

import (
	"bytes"
	"cmp"
	"slices"

	"github.com/accord-chain/accord/consensus/bft/pb"
)

// ---- fetching blocks ----

func (c *Core) fetch(from string, hash []byte) {
	if from == "" || from == c.cfg.ID || c.fetching[string(hash)] || c.blocks[string(hash)] != nil {
		return
	}
	c.fetching[string(hash)] = true
	c.send(from, &pb.Message{Version: WireVersion, Body: &pb.Message_FetchRequest{
		FetchRequest: &pb.FetchRequest{Hash: bytes.Clone(hash), Count: uint32(c.cfg.FetchCount)}}})
}

// onFetchRequest serves a block and its ancestors from the tree and,
// below it, from the driver's Storage of committed blocks.
func (c *Core) onFetchRequest(from string, r *pb.FetchRequest) {
	lookup := func(hash []byte) *pb.Block {
		if n := c.blocks[string(hash)]; n != nil {
			return n.b
		}
		if c.cfg.Storage != nil {
			return c.cfg.Storage.Block(hash)
		}
		return nil
	}
	resp := &pb.FetchResponse{}
	h := r.Hash
	if r.EpochEnd {
		if !c.ended || c.endProof == nil {
			return
		}
		h, resp.Qc = c.endProof.hash, c.endProof.qc
	}
	for len(resp.Blocks) < int(min(r.Count, maxFetch)) {
		b := lookup(h)
		if b == nil || b.Height == 0 {
			break
		}
		resp.Blocks = append(resp.Blocks, b)
		h = b.Parent
	}
	if len(resp.Blocks) > 0 {
		c.send(from, &pb.Message{Version: WireVersion, Body: &pb.Message_FetchResponse{FetchResponse: resp}})
	}
}

func (c *Core) onFetchResponse(from string, r *pb.FetchResponse) error {
	if len(r.Blocks) == 0 {
		return nil
	}
	first := c.blockHash(r.Blocks[0])
	if r.Qc != nil && !c.ended && bytes.Equal(r.Qc.Data.Block, first) {
		// The end of this epoch, as a peer that finished it proved it
		// (see Driver): the QC, once verified, makes its blocks wanted.
		if err := c.processQC(from, r.Qc); err != nil {
			return err
		}
	}
	if !c.fetching[string(first)] {
		return nil // not asked for
	}
	delete(c.fetching, string(first))
	hashes := [][]byte{first}
	for i := 1; i < len(r.Blocks); i++ {
		h := c.blockHash(r.Blocks[i])
		if !bytes.Equal(h, r.Blocks[i-1].Parent) {
			return bad("fetch response from %s is not a chain", from)
		}
		hashes = append(hashes, h)
	}
	for i := len(r.Blocks) - 1; i >= 0; i-- {
		b, h := r.Blocks[i], hashes[i]
		if c.blocks[string(h)] != nil || b.Height <= c.root.b.Height {
			continue
		}
		if len(c.orphans) < maxOrphans {
			c.orphans[string(h)] = b
		}
	}
	last := r.Blocks[len(r.Blocks)-1]
	if c.blocks[string(last.Parent)] == nil && last.Height > c.root.b.Height+1 {
		c.fetch(from, last.Parent)
	}
	c.retryOrphans()
	return nil
}

// retryOrphans inserts, lowest first, every fetched block whose parent is
// in the tree. A fetched block came by
// hash from a verified QC or a chain of parent hashes from one, so its
// content is certified; its own QC is still verified.
func (c *Core) retryOrphans() {
	for progress := true; progress && len(c.orphans) > 0; {
		progress = false
		keys := make([]string, 0, len(c.orphans))
		for k := range c.orphans {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			return cmp.Or(cmp.Compare(c.orphans[a].Height, c.orphans[b].Height), cmp.Compare(a, b))
		})
		for _, k := range keys {
			b := c.orphans[k]
			if b == nil {
				continue
			}
			if b.Height <= c.root.b.Height || c.blocks[k] != nil {
				delete(c.orphans, k)
				continue
			}
			p := c.blocks[string(b.Parent)]
			if p == nil {
				continue
			}
			delete(c.orphans, k)
			if c.checkChild(b, p) != nil || c.processQC("", b.Justify) != nil {
				continue
			}
			if c.blocks[k] == nil {
				n := c.link(b, p)
				c.persistBlock(n)
				if q := c.qcs[k]; q != nil {
					c.certify(n, q)
				}
			}
			progress = true
		}
	}
}
