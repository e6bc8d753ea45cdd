package bft

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/accord-chain/accord/consensus/bft/pb"
)

// Scripted traces in testdata/*.txt, in the style of etcd raft's
// interaction tests. Commands:
//
//	init n=4                  start validators n1..n4 at genesis
//	tick [nodes...] [n=K]     tick nodes (all by default) K times
//	propose nX                nX proposes in the round it was asked to
//	deliver [from=] [to=] [type=]  deliver matching messages once
//	redeliver [from=] [to=] [type=]  queue matching delivered messages again
//	stabilize                 deliver until no message is left
//	isolate nX... / heal      drop messages to and from nodes / stop
//	crash nX / restart nX     lose a node's memory / start it from what it persisted
//	status                    each node's round, QC, vote and commit
//
// Run with -rewrite to regenerate the expected output.
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var s *sim
		isolated := map[string]bool{}
		var delivered []inflight
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if s == nil && d.Cmd != "init" {
				t.Fatalf("%s: run init first", d.Pos)
			}
			var out strings.Builder
			if s != nil {
				s.log = &out
			}
			node := func(id string) *simNode {
				for _, sn := range s.nodes {
					if sn.id == id {
						return sn
					}
				}
				t.Fatalf("%s: no node %s", d.Pos, id)
				return nil
			}
			switch d.Cmd {
			case "init":
				n := 4
				d.MaybeScanArgs(t, "n", &n)
				o := simOpts{n: n, roundTick: 10, manualPropose: true}
				o.allowed = func(_ uint64, from, to int) bool {
					return !isolated[s.nodes[from].id] && !isolated[s.nodes[to].id]
				}
				s = newSim(t, 1, o, nil)
				s.log = &out
				for _, sn := range s.nodes {
					s.drain(sn)
				}
			case "tick":
				k := 1
				var which []string
				for _, a := range d.CmdArgs {
					if a.Key == "n" {
						fmt.Sscan(a.Vals[0], &k)
					} else {
						which = append(which, a.Key)
					}
				}
				for range k {
					s.now++
					for _, sn := range s.nodes {
						if sn.up && (len(which) == 0 || slices.Contains(which, sn.id)) {
							if err := sn.core.Tick(); err != nil {
								t.Fatal(err)
							}
							s.drain(sn)
						}
					}
				}
			case "propose":
				sn := node(d.CmdArgs[0].Key)
				payload := fmt.Sprintf("%s/r%d", sn.id, sn.mayPropose)
				if err := sn.core.Propose(sn.mayPropose, []byte(payload)); err != nil {
					fmt.Fprintf(&out, "error: %v\n", err)
				}
				s.drain(sn)
			case "deliver", "stabilize", "drop":
				var from, to, typ string
				d.MaybeScanArgs(t, "from", &from)
				d.MaybeScanArgs(t, "to", &to)
				d.MaybeScanArgs(t, "type", &typ)
				for first := true; first || d.Cmd == "stabilize"; first = false {
					if !s.deliverDD(&out, from, to, typ, d.Cmd == "drop", &delivered) {
						break
					}
				}
			case "redeliver":
				var from, to, typ string
				d.MaybeScanArgs(t, "from", &from)
				d.MaybeScanArgs(t, "to", &to)
				d.MaybeScanArgs(t, "type", &typ)
				for _, f := range delivered {
					m, _ := DecodeMessage(f.msg)
					if (from == "" || s.nodes[f.from].id == from) && (to == "" || s.nodes[f.to].id == to) &&
						(typ == "" || msgType(m) == typ) {
						s.queue = append(s.queue, f)
					}
				}
			case "isolate":
				for _, a := range d.CmdArgs {
					isolated[a.Key] = true
				}
			case "heal":
				clear(isolated)
			case "crash":
				sn := node(d.CmdArgs[0].Key)
				s.crash(sn, "by script")
			case "restart":
				sn := node(d.CmdArgs[0].Key)
				s.logf("restart %s", sn.id)
				s.start(sn)
			case "status":
				for _, sn := range s.nodes {
					if !sn.up {
						fmt.Fprintf(&out, "%s: down\n", sn.id)
						continue
					}
					st := sn.core.Status()
					fmt.Fprintf(&out, "%s: round %d leader %s qc r%d voted r%d committed h%d\n",
						sn.id, st.Round, st.Leader, st.HighQCRound, st.LastVotedRound, st.CommittedHeight)
				}
			default:
				t.Fatalf("%s: unknown command %s", d.Pos, d.Cmd)
			}
			if len(s.violations) > 0 {
				t.Fatalf("%s: %s", d.Pos, s.violations[0].msg)
			}
			if out.Len() == 0 {
				return "ok\n"
			}
			return out.String()
		})
	})
}

func msgType(m *pb.Message) string {
	switch m.Body.(type) {
	case *pb.Message_Proposal:
		return "proposal"
	case *pb.Message_Vote:
		return "vote"
	case *pb.Message_Timeout:
		return "timeout"
	case *pb.Message_FetchRequest:
		return "fetch"
	case *pb.Message_FetchResponse:
		return "blocks"
	}
	return "?"
}

// deliverDD delivers (or drops) the queued messages that match, in order,
// and reports whether any did.
func (s *sim) deliverDD(out *strings.Builder, from, to, typ string, drop bool, delivered *[]inflight) bool {
	var batch, keep []inflight
	for _, f := range s.queue {
		m, _ := DecodeMessage(f.msg)
		if (from == "" || s.nodes[f.from].id == from) && (to == "" || s.nodes[f.to].id == to) &&
			(typ == "" || msgType(m) == typ) {
			batch = append(batch, f)
		} else {
			keep = append(keep, f)
		}
	}
	s.queue = keep
	for _, f := range batch {
		src, dst := s.nodes[f.from], s.nodes[f.to]
		m, err := DecodeMessage(f.msg)
		if err != nil {
			s.t.Fatal(err)
		}
		if drop {
			fmt.Fprintf(out, "drop %s->%s %s\n", src.id, dst.id, describe(m))
			continue
		}
		if !dst.up {
			continue
		}
		fmt.Fprintf(out, "%s->%s %s\n", src.id, dst.id, describe(m))
		*delivered = append(*delivered, f)
		if err := dst.core.Step(src.id, m); err != nil {
			fmt.Fprintf(out, "  %s refuses: %v\n", dst.id, err)
		}
		s.drain(dst)
	}
	return len(batch) > 0
}
