package devstack

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// quietHandler passes records at or above min to next until it is muted. The embedded
// Temporal server warns about every connection it loses while shutting down, which tells
// a developer nothing, so the stack mutes it when Close begins.
type quietHandler struct {
	next  slog.Handler
	min   slog.Level
	muted *atomic.Bool
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && !h.muted.Load() && h.next.Enabled(ctx, l)
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.muted.Load() {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{next: h.next.WithAttrs(as), min: h.min, muted: h.muted}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{next: h.next.WithGroup(name), min: h.min, muted: h.muted}
}
