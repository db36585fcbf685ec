package devstack

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/internal/codec"
	"github.com/cashflow-underwriting/underwriter/internal/replay"
	"github.com/cashflow-underwriting/underwriter/workflows"
)

// TestEncryptedPayloads: with the payload codec on, the worker still decides, while the
// history the server holds carries the application id in no payload's data (only in ids
// and search attributes, which are not payload data the codec owns); the history replays
// with the codec and the decision is the worker's.
func TestEncryptedPayloads(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pc, err := codec.ParseKeys("k1:" + codec.GenerateKey())
	require.NoError(t, err)
	stack := startStack(ctx, t, Config{RefreshDelay: 100 * time.Millisecond, PayloadCodec: pc})
	req := api.ApplicationRequest{ApplicationID: "private-app-7", LoanAmountMinor: 300000, TermMonths: 12, Currency: "usd"}
	run := startWithGoClient(ctx, t, stack, req, "steady_salaried")
	var res workflows.UnderwriteResult
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, "approve", res.Outcome)

	h, err := replay.Fetch(ctx, stack.Temporal, workflows.WorkflowID(req.ApplicationID), "")
	require.NoError(t, err)
	var encrypted, plain int
	for _, ev := range h.GetEvents() {
		codec.EachPayload(ev.ProtoReflect(), func(p *commonpb.Payload) {
			if string(p.GetMetadata()[converter.MetadataEncoding]) == codec.MetadataEncoding {
				encrypted++
			} else {
				plain++
			}
			require.False(t, bytes.Contains(p.GetData(), []byte(req.ApplicationID)),
				"event %d %s: a payload holds the application id in plain text", ev.GetEventId(), ev.GetEventType())
		})
	}
	require.Positive(t, encrypted)
	require.Zero(t, plain, "payloads written without the codec")

	// The default converter cannot read the result; the codec's replays it.
	r := replay.HistoryWithConverter(h, "server", "", "", nil, pc.DataConverter())
	require.True(t, r.OK(), "%+v", r)
	require.Equal(t, res.Outcome, r.Result.Outcome)
	require.Equal(t, res.Score, r.Result.Score)
}
