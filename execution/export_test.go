package execution

// SetMinParallel sets the smallest block e runs in parallel, so that tests
// can run small blocks both ways.
func (e *Executor) SetMinParallel(n int) { e.minParallel = n }

// NeverPause keeps speculative execution on whatever blocks conflict.
func (e *Executor) NeverPause() { e.noPause = true }
