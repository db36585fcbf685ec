package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// readyTimeout bounds the wait for a started process to be healthy: a worker polling
	// its task queue, the API answering /healthz. Both take well under a second, more on
	// a loaded 2-core machine.
	readyTimeout = time.Minute
	// stopGrace is how long Close lets a process shut down after SIGTERM before SIGKILL:
	// the API's own shutdown grace (10 s) and a little more.
	stopGrace = 15 * time.Second
	// readyPoll paces the health checks.
	readyPoll = 25 * time.Millisecond
	// logTailBytes is how much of a process's log an error quotes.
	logTailBytes = 2048
)

// proc is one underwriter subcommand run as an OS process, restartable, its output
// appended to one log file across restarts.
type proc struct {
	name    string // "api", "worker-0", …
	binary  string
	args    []string
	env     func() []string // built at each start
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd // nil before the first start
	exited chan struct{}
	starts int

	cpuMu   sync.Mutex
	cpuDone time.Duration // CPU time of the starts that exited
}

// cpuTime returns the CPU time of every start that exited and of the running one.
func (p *proc) cpuTime() (time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var live time.Duration
	if p.running() {
		var err error
		if live, err = processCPU(p.cmd.Process.Pid); err != nil {
			return 0, fmt.Errorf("cpu of %s: %w", p.name, err)
		}
	}
	p.cpuMu.Lock()
	defer p.cpuMu.Unlock()
	return p.cpuDone + live, nil
}

// start starts the process, its output appended to the log file after a line naming
// this start. It does not wait for the process to be ready.
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running() {
		return fmt.Errorf("start %s: already running (pid %d)", p.name, p.cmd.Process.Pid)
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log of %s: %w", p.name, err)
	}
	p.starts++
	fmt.Fprintf(logf, "=== cluster: start %d of %s at %s\n", p.starts, p.name, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(p.binary, p.args...)
	cmd.Env = p.env()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s (%s %s): %w", p.name, p.binary, strings.Join(p.args, " "), err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		p.cpuMu.Lock()
		p.cpuDone += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		p.cpuMu.Unlock()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	return nil
}

// running reports whether the process was started and has not exited; callers hold p.mu.
func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// pid returns the running process's id, 0 when none runs.
func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() {
		return 0
	}
	return p.cmd.Process.Pid
}

// exitedChan returns the channel closed when the current process exits (nil before the
// first start).
func (p *proc) exitedChan() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// kill sends SIGKILL (no shutdown, no cleanup: a crash, an OOM kill, a lost machine) and
// waits for the process to be gone. Killing a process that does not run is an error.
func (p *proc) kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() {
		return fmt.Errorf("kill %s: not running", p.name)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	<-p.exited
	return nil
}

// stop asks the process to shut down (SIGTERM), then kills it after stopGrace.
func (p *proc) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
}

// waitReady polls ready until it reports nil, the process exits or ctx ends (at most
// readyTimeout); the error quotes the end of the log.
func (p *proc) waitReady(ctx context.Context, ready func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	exited := p.exitedChan()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		err := ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before it was ready: %s", p.name, p.logTail())
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to be ready: %w (last check: %v): %s", p.name, ctx.Err(), err, p.logTail())
		case <-tick.C:
		}
	}
}

// logTail returns the end of the process's log file.
func (p *proc) logTail() string {
	return fileTail(p.logPath, logTailBytes)
}

// fileTail returns up to n bytes from the end of the file at path.
func fileTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		_, _ = f.Seek(fi.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}
