package temporalembed_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/cashflow-underwriting/underwriter/internal/pgembed"
	"github.com/cashflow-underwriting/underwriter/internal/temporalembed"
)

// TestPostgresKeepsWorkflowsAcrossRestarts: a server on a fresh Postgres database creates
// both databases and their schemas, registers the namespace and its search attributes
// through the API and runs a workflow; a second server on the same database while the
// first runs is refused; after a restart the workflow and its search attribute are still
// there, and the schema is recorded at the server's version.
func TestPostgresKeepsWorkflowsAcrossRestarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pg, err := pgembed.Start(ctx, pgembed.Options{Logger: testLogger()})
	require.NoError(t, err)
	defer func() { require.NoError(t, pg.Stop()) }()
	url := pg.URL("temporal_test")
	cfg := temporalembed.Config{
		PostgresURL: url, Namespace: "lending", UIPort: temporalembed.NoUI, HistoryShards: 2,
		SearchAttributes: map[string]enumspb.IndexedValueType{
			"TestStage": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			"TestScore": enumspb.INDEXED_VALUE_TYPE_INT,
		},
		Logger: testLogger(),
	}
	s, err := temporalembed.Start(ctx, cfg)
	require.NoError(t, err)
	c := dial(t, s)
	runStage(t, c, client.StartWorkflowOptions{ID: "kept"}, "before-restart")

	_, err = temporalembed.Start(ctx, cfg)
	require.ErrorContains(t, err, "database temporal_test is in use by another temporal server")
	require.NoError(t, s.Stop())

	s, err = temporalembed.Start(ctx, cfg)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Stop()) }()
	c = dial(t, s)
	desc, err := c.DescribeWorkflowExecution(ctx, "kept", "")
	require.NoError(t, err, "the workflow survived the restart")
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.GetWorkflowExecutionInfo().GetStatus())
	sa, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "lending"})
	require.NoError(t, err)
	require.Equal(t, enumspb.INDEXED_VALUE_TYPE_KEYWORD, sa.GetCustomAttributes()["TestStage"])
	require.Equal(t, enumspb.INDEXED_VALUE_TYPE_INT, sa.GetCustomAttributes()["TestScore"])
	require.Eventually(t, func() bool {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: "lending", Query: "TestStage = 'before-restart'"})
		return err == nil && resp.GetCount() == 1
	}, 30*time.Second, 100*time.Millisecond, "visibility in Postgres finds the workflow by its search attribute")

	for db, want := range map[string]string{"temporal_test": "1.19", "temporal_test" + temporalembed.VisibilitySuffix: "1.14"} {
		conn, err := pgx.Connect(ctx, pg.URL(db))
		require.NoError(t, err)
		var v string
		require.NoError(t, conn.QueryRow(ctx, "SELECT curr_version FROM schema_version WHERE version_partition = 0 AND db_name = $1", db).Scan(&v))
		require.NoError(t, conn.Close(ctx))
		require.Equal(t, want, v, db)
	}
}

// TestPostgresURLErrors: a bad URL is refused before anything starts, with a reason and
// never the password.
func TestPostgresURLErrors(t *testing.T) {
	for url, want := range map[string]string{
		"mysql://u:secret@h/db":            `scheme "mysql"`,
		"postgres://u:secret@h":            "no database name",
		"postgres://u:secret@/db":          "no host",
		"postgres://u:secret@h/db?a=1&a=2": "query parameter a given 2 times",
		"postgres://u:secret@h:x/db":       "not a URL",
	} {
		_, err := temporalembed.Start(context.Background(), temporalembed.Config{PostgresURL: url, UIPort: temporalembed.NoUI})
		require.ErrorContains(t, err, want, url)
		require.NotContains(t, err.Error(), "secret", url)
	}
}
