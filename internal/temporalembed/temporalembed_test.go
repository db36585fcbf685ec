package temporalembed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/internal/temporalembed"
)

const taskQueue = "temporalembed-test"

var (
	stageKey = temporal.NewSearchAttributeKeyKeyword("TestStage")
	scoreKey = temporal.NewSearchAttributeKeyInt64("TestScore")
)

// stageWorkflow sets the TestStage search attribute to stage and returns it.
func stageWorkflow(ctx workflow.Context, stage string) (string, error) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, stageKey.ValueSet(stage)); err != nil {
		return "", err
	}
	return stage, nil
}

// testLogger writes to stderr, not t.Log: the server may log from its own
// goroutines after a test has returned.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func dial(t testing.TB, s *temporalembed.Server) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  s.FrontendAddress(),
		Namespace: s.Namespace(),
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// runStage runs stageWorkflow to completion with a worker of its own.
func runStage(t testing.TB, c client.Client, opts client.StartWorkflowOptions, stage string) {
	t.Helper()
	opts.TaskQueue = taskQueue
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(stageWorkflow)
	require.NoError(t, w.Start())
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	begin := time.Now()
	run, err := c.ExecuteWorkflow(ctx, opts, stageWorkflow, stage)
	require.NoError(t, err)
	var got string
	require.NoError(t, run.Get(ctx, &got))
	require.Equal(t, stage, got)
	t.Logf("workflow %s completed in %v", opts.ID, time.Since(begin))
}

// requireListed waits until a visibility query finds exactly the workflow ids.
func requireListed(t testing.TB, c client.Client, query string, ids ...string) {
	t.Helper()
	var last []string
	require.Eventually(t, func() bool {
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Logf("list %q: %v", query, err)
			return false
		}
		last = last[:0]
		for _, e := range resp.GetExecutions() {
			last = append(last, e.GetExecution().GetWorkflowId())
		}
		return len(last) == len(ids) && fmt.Sprint(last) == fmt.Sprint(ids)
	}, 20*time.Second, 100*time.Millisecond, "query %q: want %v, last saw %v", query, ids, &last)
}

func TestStartInMemory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	begin := time.Now()
	s, err := temporalembed.Start(ctx, temporalembed.Config{
		Namespace:        "embed-test",
		SearchAttributes: map[string]enumspb.IndexedValueType{"TestStage": enumspb.INDEXED_VALUE_TYPE_KEYWORD},
		Logger:           testLogger(),
	})
	require.NoError(t, err)
	t.Logf("in-memory server and ui ready in %v", time.Since(begin))
	t.Cleanup(func() {
		begin := time.Now()
		require.NoError(t, s.Stop())
		t.Logf("stopped in %v", time.Since(begin))
		require.NoError(t, s.Stop(), "Stop is idempotent")
	})
	require.Equal(t, "embed-test", s.Namespace())
	require.Regexp(t, `^127\.0\.0\.1:\d+$`, s.FrontendAddress())
	require.Regexp(t, `^http://127\.0\.0\.1:\d+$`, s.UIURL())

	c := dial(t, s)
	runStage(t, c, client.StartWorkflowOptions{ID: "wf-memory"}, "scored")
	requireListed(t, c, `TestStage = "scored"`, "wf-memory")
	requireListed(t, c, `TestStage = "other"`)

	resp, err := http.Get(s.UIURL() + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")

	// The UI is told not to fetch Temporal's news feed: it makes no request off the machine.
	sresp, err := http.Get(s.UIURL() + "/api/v1/settings")
	require.NoError(t, err)
	defer sresp.Body.Close()
	var settings struct {
		DisableNewsFetch, NotifyOnNewVersion bool
	}
	require.NoError(t, json.NewDecoder(sresp.Body).Decode(&settings))
	require.True(t, settings.DisableNewsFetch)
	require.False(t, settings.NotifyOnNewVersion)
}

// TestRestartOnFile creates the database file in a child process (a real
// restart: the SQLite plugin keeps connections open for the life of the
// process), then restarts on the same file here with one more search
// attribute and finds the first run's workflow and its search attribute.
func TestRestartOnFile(t *testing.T) {
	if path := os.Getenv("TEMPORALEMBED_CHILD_DB"); path != "" {
		childWriteFile(t, path)
		return
	}
	path := filepath.Join(t.TempDir(), "state", "temporal.db")

	cmd := exec.Command(os.Args[0], "-test.run=^TestRestartOnFile$", "-test.v")
	cmd.Env = append(os.Environ(), "TEMPORALEMBED_CHILD_DB="+path)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child run:\n%s", out)
	t.Logf("child run:\n%s", out)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	begin := time.Now()
	s, err := temporalembed.Start(ctx, temporalembed.Config{
		DatabasePath: path,
		UIPort:       temporalembed.NoUI,
		SearchAttributes: map[string]enumspb.IndexedValueType{
			"TestStage": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			"TestScore": enumspb.INDEXED_VALUE_TYPE_INT,
		},
		Logger: testLogger(),
	})
	require.NoError(t, err)
	t.Logf("restart on existing file ready in %v", time.Since(begin))
	t.Cleanup(func() { require.NoError(t, s.Stop()) })
	require.Equal(t, temporalembed.DefaultNamespace, s.Namespace())
	require.Empty(t, s.UIURL())

	c := dial(t, s)
	desc, err := c.DescribeWorkflowExecution(ctx, "wf-file", "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.GetWorkflowExecutionInfo().GetStatus())
	requireListed(t, c, `TestStage = "before-restart"`, "wf-file")

	// The restarted server runs new workflows (history, matching and the
	// worker's polls all work), and the search attribute added on restart is
	// usable at once.
	runStage(t, c, client.StartWorkflowOptions{
		ID:                    "wf-scored",
		TypedSearchAttributes: temporal.NewSearchAttributes(scoreKey.ValueSet(640)),
	}, "after-restart")
	requireListed(t, c, `TestScore >= 600 AND TestStage = "after-restart"`, "wf-scored")
}

func childWriteFile(t *testing.T, path string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	begin := time.Now()
	s, err := temporalembed.Start(ctx, temporalembed.Config{
		DatabasePath:     path,
		UIPort:           temporalembed.NoUI,
		SearchAttributes: map[string]enumspb.IndexedValueType{"TestStage": enumspb.INDEXED_VALUE_TYPE_KEYWORD},
		Logger:           testLogger(),
	})
	require.NoError(t, err)
	t.Logf("start on new file ready in %v", time.Since(begin))
	t.Cleanup(func() { require.NoError(t, s.Stop()) }) // after the client's Close
	c := dial(t, s)
	runStage(t, c, client.StartWorkflowOptions{ID: "wf-file"}, "before-restart")
	requireListed(t, c, `TestStage = "before-restart"`, "wf-file")
}

func TestStartRefusesWhatItCannotServe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("frontend port taken", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		_, err = temporalembed.Start(ctx, temporalembed.Config{FrontendPort: l.Addr().(*net.TCPAddr).Port, UIPort: temporalembed.NoUI})
		require.ErrorContains(t, err, "frontend port")
	})

	t.Run("ui port taken", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		_, err = temporalembed.Start(ctx, temporalembed.Config{UIPort: l.Addr().(*net.TCPAddr).Port})
		require.ErrorContains(t, err, "web ui port")
	})

	t.Run("database file in use", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "temporal.db")
		s, err := temporalembed.Start(ctx, temporalembed.Config{DatabasePath: path, UIPort: temporalembed.NoUI, Logger: testLogger()})
		require.NoError(t, err)
		defer func() { require.NoError(t, s.Stop()) }()
		_, err = temporalembed.Start(ctx, temporalembed.Config{DatabasePath: path, UIPort: temporalembed.NoUI})
		require.ErrorContains(t, err, "in use by another temporal server")
	})
}

// TestUICodecEndpoint: with CodecEndpoint set, the UI's settings name it and ask the
// browser to send its cookies there (includeCredentials), the codec endpoint's session.
func TestUICodecEndpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := temporalembed.Start(ctx, temporalembed.Config{CodecEndpoint: "http://127.0.0.1:18089", Logger: testLogger()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Stop()) })
	resp, err := http.Get(s.UIURL() + "/api/v1/settings")
	require.NoError(t, err)
	defer resp.Body.Close()
	var settings struct {
		Codec struct {
			Endpoint           string
			IncludeCredentials bool
			PassAccessToken    bool
		}
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&settings))
	require.Equal(t, "http://127.0.0.1:18089", settings.Codec.Endpoint)
	require.True(t, settings.Codec.IncludeCredentials)
	require.False(t, settings.Codec.PassAccessToken)
}
