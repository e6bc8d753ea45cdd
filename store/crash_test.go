package store

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashHelperEnv names the store directory for the child process of
// TestCrashRecovery; TestHelperWriter does nothing without it.
const crashHelperEnv = "ACCORD_STORE_CRASH_HELPER_DIR"

// TestHelperWriter is the child process of TestCrashRecovery, not a test of
// its own. It resumes the deterministic chain from the store's tip and
// commits blocks, synced, until it is killed, printing "ack <height>" after
// each CommitBlock returns.
func TestHelperWriter(t *testing.T) {
	dir := os.Getenv(crashHelperEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashRecovery")
	}
	// Never outlive the parent: it holds our stdin open and never writes, so
	// EOF means it is gone (a crashed test binary cannot kill us).
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		fmt.Fprintf(os.Stderr, "helper: open: %v\n", err)
		os.Exit(2)
	}
	next := uint64(0)
	if tip := s.Tip(); !tip.Empty {
		next = tip.Height + 1
	}
	// Bounded, in case the parent neither kills us nor closes stdin.
	deadline := time.Now().Add(2 * time.Minute)
	for ; time.Now().Before(deadline); next++ {
		if err := s.CommitBlock(genCommit(next)); err != nil {
			fmt.Fprintf(os.Stderr, "helper: commit %d: %v\n", next, err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stdout, "ack %d\n", next)
	}
	os.Exit(4)
}

// TestCrashRecovery kills a process that is committing blocks with SIGKILL at
// random moments and checks that every acknowledged block survived, that no
// block is partial and that state matches the tip exactly.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))

	const rounds = 5
	lastAck := int64(-1) // highest height acknowledged in any round
	for round := 0; round < rounds; round++ {
		// Kill after 3..40 acknowledged blocks of this round, plus a random
		// delay of up to 2 ms so that the kill lands anywhere in the commit
		// cycle (encode, WAL write, fsync, ack).
		wantAcks := 3 + rng.IntN(38)
		jitter := time.Duration(rng.Int64N(int64(2 * time.Millisecond)))
		ack, stderr := runWriterAndKill(t, dir, wantAcks, jitter)
		if ack <= lastAck {
			t.Fatalf("round %d: child acknowledged nothing new (last ack %d, earlier %d); stderr:\n%s", round, ack, lastAck, stderr)
		}
		lastAck = ack

		s, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		tip := s.Tip()
		if tip.Empty || int64(tip.Height) < lastAck {
			s.Close()
			t.Fatalf("round %d: tip %+v is behind the last acknowledged height %d", round, tip, lastAck)
		}
		// At most the one block in flight at the kill can be durable
		// without an ack.
		if int64(tip.Height) > lastAck+1 {
			s.Close()
			t.Fatalf("round %d: tip %d is more than one block past the last ack %d", round, tip.Height, lastAck)
		}
		t.Logf("round %d: acked %d (wanted %d acks, jitter %v), recovered tip %d", round, lastAck, wantAcks, jitter, tip.Height)
		verifyChain(t, s, tip.Height)
		if err := s.Close(); err != nil {
			t.Fatalf("round %d: close: %v", round, err)
		}
		lastAck = int64(tip.Height) // the next round resumes from here
	}
}

// runWriterAndKill starts TestHelperWriter on dir, waits for wantAcks new
// acknowledged heights, waits jitter, SIGKILLs it and returns the highest
// height it acknowledged (including acks still in the pipe) and its stderr.
func runWriterAndKill(t *testing.T, dir string, wantAcks int, jitter time.Duration) (int64, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+dir)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Whatever happens below, the child dies and is reaped before we return.
	waited := false
	defer func() {
		if !waited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		_ = stdin.Close()
	}()

	acks := make(chan int64, 1024)
	go func() {
		defer close(acks)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if h, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				n, err := strconv.ParseInt(h, 10, 64)
				if err == nil {
					acks <- n
				}
			}
		}
	}()

	last := int64(-1)
	// Generous: a child on a loaded 2-core machine with a slow fsync may
	// take a long time per block, but it will get there.
	timeout := time.NewTimer(90 * time.Second)
	defer timeout.Stop()
	for got := 0; got < wantAcks; {
		select {
		case h, ok := <-acks:
			if !ok {
				_ = cmd.Wait()
				waited = true
				t.Fatalf("child exited after %d acks (%v); stderr:\n%s", got, cmd.ProcessState, stderr.String())
			}
			last, got = max(last, h), got+1
		case <-timeout.C:
			t.Fatalf("only %d of %d acks within the deadline; stderr:\n%s", got, wantAcks, stderr.String())
		}
	}
	if jitter > 0 {
		time.Sleep(jitter)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
		t.Fatalf("kill: %v", err)
	}
	// Acks written before the kill may still be in the pipe; they count.
	for h := range acks {
		last = max(last, h)
	}
	_ = cmd.Wait()
	waited = true
	return last, stderr.String()
}

// lockedBuffer is a bytes.Buffer safe for the exec copier goroutine and the
// test reading it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
