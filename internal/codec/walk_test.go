package codec

import (
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
)

func TestEachPayloadSkipsSearchAttributes(t *testing.T) {
	p := func(s string) *commonpb.Payload { return &commonpb.Payload{Data: []byte(s)} }
	ev := &historypb.HistoryEvent{Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
		WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
			Input:            &commonpb.Payloads{Payloads: []*commonpb.Payload{p("in1"), p("in2")}},
			Memo:             &commonpb.Memo{Fields: map[string]*commonpb.Payload{"m": p("memo")}},
			SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{"sa": p("sa")}},
		}}}
	var seen []string
	EachPayload(ev.ProtoReflect(), func(p *commonpb.Payload) { seen = append(seen, string(p.GetData())) })
	require.ElementsMatch(t, []string{"in1", "in2", "memo"}, seen)
}
