package chain

import (
	"bytes"
	"slices"

	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/store"
)

// Range makes pendingReader an execution.Ranger: committed state under the
// writes of the blocks still waiting for the disk, newest first.
func (r pendingReader) Range(start, end []byte, limit int) ([]execution.Write, bool, error) {
	c := r.c
	over := map[string]execution.Write{}
	c.mu.RLock()
	for _, b := range c.pending {
		for _, w := range b.res.Writes {
			if bytes.Compare(w.Key, start) >= 0 && (end == nil || bytes.Compare(w.Key, end) < 0) {
				over[string(w.Key)] = w
			}
		}
	}
	c.mu.RUnlock()
	return mergeRange(c.cfg.Store.Range, over, start, end, limit)
}

// mergeRange lays over on a page of committed state. Deletions in over may
// hide committed keys, so it asks for enough to fill the page; past the
// last committed key it got, a key of over may skip unseen ones, so those
// wait for the next page.
func mergeRange(base func([]byte, []byte, int) ([]store.KV, bool, error), over map[string]execution.Write, start, end []byte, limit int) ([]execution.Write, bool, error) {
	kvs, more, err := base(start, end, limit+len(over))
	if err != nil {
		return nil, false, err
	}
	merged := make(map[string]execution.Write, len(kvs)+len(over))
	for _, kv := range kvs {
		merged[string(kv.Key)] = execution.Write{Key: kv.Key, Value: kv.Value}
	}
	for k, w := range over {
		merged[k] = w
	}
	keys := make([]string, 0, len(merged))
	for k, w := range merged {
		if more && len(kvs) > 0 && k > string(kvs[len(kvs)-1].Key) {
			continue
		}
		if !w.Delete {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) > limit {
		keys, more = keys[:limit], true
	}
	out := make([]execution.Write, len(keys))
	for i, k := range keys {
		out[i] = merged[k]
	}
	return out, more, nil
}

var _ execution.Ranger = pendingReader{}
