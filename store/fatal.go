package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"

	"github.com/cockroachdb/pebble/v2"
)

// isDiskFull reports whether err is the operating system's "no space left on
// device".
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC)
}

// fatalEvents routes the pebble events that no caller sees and that the
// store cannot carry on from to opts.Fatal, in one line: on-disk corruption
// (pebble's default is a Fatalf with a stack trace), and a full disk under a
// flush or compaction (pebble logs it and retries at once, forever).
func fatalEvents(opts Options, fatal func(error)) *pebble.EventListener {
	return &pebble.EventListener{
		BackgroundError: func(err error) {
			switch {
			case isDiskFull(err):
				fatal(fmt.Errorf("%w: %s: %s: free space on its volume, then start again", ErrDiskFull, opts.Dir, oneLine(err)))
			case pebble.IsCorruptionError(err):
				fatal(fmt.Errorf("%w: %s: %s: restore the data directory from a backup, or on a network rejoin from peers (docs/operations.md, \"Backup and restore\")", ErrCorrupt, opts.Dir, oneLine(err)))
			default:
				opts.Logger.Errorf("background error: %s", oneLine(err))
			}
		},
		DataCorruption: func(info pebble.DataCorruptionInfo) {
			fatal(fmt.Errorf("%w: on-disk corruption in %s: %s: restore the data directory from a backup, or on a network rejoin from peers (docs/operations.md, \"Backup and restore\")", ErrCorrupt, info.Path, oneLine(info.Details)))
		},
	}
}

// onceFatal returns fatal called at most once: pebble may report one failure
// from several goroutines.
func onceFatal(fatal func(error)) func(error) {
	var once sync.Once
	return func(err error) { once.Do(func() { fatal(err) }) }
}

// oneLine is err's message with line breaks folded, for errors that must
// read as one log line.
func oneLine(err error) string {
	if err == nil {
		return "<nil>"
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}
