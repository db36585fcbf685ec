package temporalembed

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// minServerLogLevel is the lowest level of the server's own log lines that is
// passed on: the server is chatty at info level (membership, shard and queue
// life cycle), none of which a developer of this project acts on.
const minServerLogLevel = slog.LevelWarn

// Phases of a server's life, which decide what happens to its log lines.
const (
	// phaseStarting: lines are held back. The server logs transient
	// failures while its services find each other ("Frontend is not healthy
	// yet"); they are dropped when Start succeeds and written out when it
	// fails, to explain why.
	phaseStarting int32 = iota
	// phaseRunning: warnings and errors are written.
	phaseRunning
	// phaseStopping: lines are dropped. Shutting down, the services log
	// every poll and heartbeat their peers, already gone, no longer answer.
	phaseStopping
)

// maxHeldLines bounds the lines held back while starting.
const maxHeldLines = 200

// logState is shared by a server's loggers (the server derives many with
// With).
type logState struct {
	phase atomic.Int32
	mu    sync.Mutex
	held  []heldLine
}

type heldLine struct {
	level slog.Level
	msg   string
	attrs []slog.Attr
}

// setPhase moves to phase p. Leaving phaseStarting for phaseRunning drops the
// held lines; flush writes them instead.
func (st *logState) setPhase(p int32) {
	st.phase.Store(p)
	st.mu.Lock()
	st.held = nil
	st.mu.Unlock()
}

// flush writes the lines held back while starting to l.
func (st *logState) flush(l *slog.Logger) {
	st.mu.Lock()
	held := st.held
	st.held = nil
	st.mu.Unlock()
	for _, h := range held {
		l.LogAttrs(context.Background(), h.level, h.msg, h.attrs...)
	}
}

// slogLogger adapts a *slog.Logger to the Temporal server's log.Logger,
// dropping everything below minServerLogLevel and handling lines by the
// server's phase (see phaseStarting).
type slogLogger struct {
	l     *slog.Logger
	state *logState
	tags  []tag.Tag // from With; converted only when a line is logged
}

var (
	_ log.Logger     = slogLogger{}
	_ log.WithLogger = slogLogger{}
)

func newServerLogger(l *slog.Logger, state *logState) slogLogger {
	return slogLogger{l: l, state: state}
}

func (s slogLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	if level < minServerLogLevel || !s.l.Enabled(context.Background(), level) {
		return
	}
	phase := s.state.phase.Load()
	if phase == phaseStopping {
		return
	}
	all := append(append(make([]tag.Tag, 0, len(s.tags)+len(tags)), s.tags...), tags...)
	if phase == phaseStarting {
		s.state.mu.Lock()
		if len(s.state.held) < maxHeldLines {
			s.state.held = append(s.state.held, heldLine{level: level, msg: msg, attrs: attrs(all)})
		}
		s.state.mu.Unlock()
		return
	}
	s.l.LogAttrs(context.Background(), level, msg, attrs(all)...)
}

func attrs(tags []tag.Tag) []slog.Attr {
	out := make([]slog.Attr, 0, len(tags))
	for _, t := range tags {
		if t == nil {
			continue
		}
		out = append(out, slog.Any(t.Key(), t.Value()))
	}
	return out
}

// Debug drops the message (below minServerLogLevel).
func (s slogLogger) Debug(msg string, tags ...tag.Tag) { s.log(slog.LevelDebug, msg, tags) }

// Info drops the message (below minServerLogLevel).
func (s slogLogger) Info(msg string, tags ...tag.Tag) { s.log(slog.LevelInfo, msg, tags) }

// Warn logs at warn level.
func (s slogLogger) Warn(msg string, tags ...tag.Tag) { s.log(slog.LevelWarn, msg, tags) }

// Error logs at error level.
func (s slogLogger) Error(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

// DPanic logs at error level; the server only panics on it in development
// builds.
func (s slogLogger) DPanic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

// Panic logs at error level and panics, as the server expects.
func (s slogLogger) Panic(msg string, tags ...tag.Tag) {
	s.state.flush(s.l)
	s.l.LogAttrs(context.Background(), slog.LevelError, msg, attrs(append(s.tags, tags...))...)
	panic(fmt.Sprintf("temporal server: %s", msg))
}

// Fatal logs at error level and exits the process, as the server expects: it
// calls Fatal where it cannot go on (for example a port it cannot bind) and
// does not handle a return.
func (s slogLogger) Fatal(msg string, tags ...tag.Tag) {
	s.state.flush(s.l)
	s.l.LogAttrs(context.Background(), slog.LevelError, msg, attrs(append(s.tags, tags...))...)
	fmt.Fprintf(os.Stderr, "temporal server: fatal: %s %v\n", msg, attrs(append(s.tags, tags...)))
	os.Exit(1)
}

// With returns a logger that adds tags to every message. The server calls
// it on hot paths, so the tags are only kept, not converted.
func (s slogLogger) With(tags ...tag.Tag) log.Logger {
	return slogLogger{l: s.l, state: s.state, tags: append(append(make([]tag.Tag, 0, len(s.tags)+len(tags)), s.tags...), tags...)}
}
