package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	tclient "go.temporal.io/sdk/client"

	"github.com/cashflow-underwriting/underwriter/internal/wiring"
)

// deployTimeout bounds one deploy command's calls to Temporal: a describe, a change and a
// count per version.
const deployTimeout = time.Minute

// deploySettings are the flags both deploy commands share: the Temporal connection and
// the deployment's name.
type deploySettings struct {
	tc    *wiring.TemporalConfig
	tcErr func() error
	name  *string
	logs  logConfig
}

func (s *deploySettings) flags(fs *flag.FlagSet, getenv func(string) string) {
	s.tc, s.tcErr = temporalSettings(fs, getenv)
	s.name = fs.String("deployment-name", getenvOr(getenv, envDeploymentName.name, wiring.DefaultDeploymentName),
		"Temporal Worker Deployment of the workers")
	s.logs.flags(fs, getenv, "text", "warn")
}

// dial checks the settings, then connects to Temporal.
func (s *deploySettings) dial(ctx context.Context, stderr io.Writer) (tclient.Client, *slog.Logger, error) {
	logger, err := s.logs.logger(stderr)
	if err != nil {
		return nil, nil, err
	}
	nameErr := wiring.CheckDeploymentName(*s.name)
	if nameErr == nil && *s.name == "" {
		nameErr = errors.New("empty")
	}
	if nameErr != nil {
		nameErr = fmt.Errorf("deployment-name (%s): %w", envDeploymentName.name, nameErr)
	}
	if err := errors.Join(s.tcErr(), checkTemporal(*s.tc), nameErr); err != nil {
		return nil, nil, err
	}
	c, err := wiring.DialTemporal(ctx, *s.tc, logger)
	if err != nil {
		return nil, nil, err
	}
	return c, logger, nil
}

func deployEnv() []envVar {
	return append([]envVar{envDeploymentName, envLogFormat, envLogLevel}, temporalEnv...)
}

func deploySetCurrentCommand() command {
	return command{
		name: "deploy set-current",
		summary: "Make a build the current version of the Worker Deployment: every workflow started from now on runs on it. " +
			"Runs already open stay on the version they started on (Underwrite and Rescore are pinned), so keep the old version's " +
			"workers until `underwriter deploy status` shows it has no running workflows.",
		env: deployEnv(),
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			var s deploySettings
			s.flags(fs, getenv)
			buildID := fs.String("build-id", "", "build id to make current (required; its workers must be polling, see `underwriter deploy status`)")
			allowNoPollers := fs.Bool("allow-no-pollers", false, "make the version current even if no worker of it has ever polled (its workflows wait until one does)")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				if strings.TrimSpace(*buildID) == "" {
					return errors.New("--build-id: not set (a build id from `underwriter deploy status`)")
				}
				if err := wiring.CheckBuildID(*buildID); err != nil {
					return fmt.Errorf("--build-id: %w", err)
				}
				c, _, err := s.dial(ctx, stderr)
				if err != nil {
					return err
				}
				defer c.Close()
				ctx, cancel := context.WithTimeout(ctx, deployTimeout)
				defer cancel()
				h := c.WorkerDeploymentClient().GetHandle(*s.name)
				// The conflict token of what was read makes the change fail, rather than
				// report a wrong previous version, if another operator changes it meanwhile.
				desc, err := h.Describe(ctx, tclient.WorkerDeploymentDescribeOptions{})
				if err != nil {
					return fmt.Errorf("describe deployment %s: %w", *s.name, deployError(err, *s.name))
				}
				_, err = h.SetCurrentVersion(ctx, tclient.WorkerDeploymentSetCurrentVersionOptions{
					BuildID: *buildID, AllowNoPollers: *allowNoPollers, ConflictToken: desc.ConflictToken,
				})
				if err != nil {
					return fmt.Errorf("set current version of deployment %s to %s: %w", *s.name, *buildID, deployError(err, *s.name))
				}
				dep := wiring.Deployment{Name: *s.name, BuildID: *buildID}
				prev := "none"
				if p := desc.Info.RoutingConfig.CurrentVersion; p != nil && p.BuildID != "" {
					prev = wiring.Deployment{Name: *s.name, BuildID: p.BuildID}.String()
				}
				fmt.Fprintf(stdout, "deployment %s: current version %s (was %s)\n", *s.name, dep, prev)
				if prev != "none" && prev != dep.String() {
					fmt.Fprintf(stdout, "runs started on %s stay on it: keep its workers until `underwriter deploy status` shows it drained with no running workflows\n", prev)
				}
				return nil
			}
		},
	}
}

func deployStatusCommand() command {
	return command{
		name: "deploy status",
		summary: "Show the Worker Deployment's versions: which is current (new workflows start on it) and ramping, whether each " +
			"old version is draining or drained, and how many running workflows each still has (from visibility, seconds behind). " +
			"A version may lose its workers once it is not current and has no running workflows.",
		env: deployEnv(),
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			var s deploySettings
			s.flags(fs, getenv)
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				c, _, err := s.dial(ctx, stderr)
				if err != nil {
					return err
				}
				defer c.Close()
				ctx, cancel := context.WithTimeout(ctx, deployTimeout)
				defer cancel()
				st, err := deploymentStatus(ctx, c, *s.name)
				if err != nil {
					return err
				}
				st.write(stdout)
				return nil
			}
		},
	}
}

// versionStatus is one row of `deploy status`.
type versionStatus struct {
	BuildID string
	// Status is current, ramping, draining, drained or inactive (never current, or
	// current so briefly that the server has not judged its drainage).
	Status    string
	CreatedAt time.Time
	// Running counts the running workflows on the version
	// (TemporalWorkerDeploymentVersion).
	Running int64
}

// deployment is what `deploy status` shows.
type deployment struct {
	Name     string
	Current  string // build id; "" when there is none
	Ramping  string
	RampPct  float32
	Versions []versionStatus
	// Unversioned counts running workflows on no version: started before the workers
	// were versioned, or while no version was current.
	Unversioned int64
}

// deploymentStatus describes deployment name and counts the running workflows of each of
// its versions.
func deploymentStatus(ctx context.Context, c tclient.Client, name string) (deployment, error) {
	desc, err := c.WorkerDeploymentClient().GetHandle(name).Describe(ctx, tclient.WorkerDeploymentDescribeOptions{})
	if err != nil {
		return deployment{}, fmt.Errorf("describe deployment %s: %w", name, deployError(err, name))
	}
	rc := desc.Info.RoutingConfig
	d := deployment{Name: name}
	if rc.CurrentVersion != nil {
		d.Current = rc.CurrentVersion.BuildID
	}
	if rc.RampingVersion != nil {
		d.Ramping, d.RampPct = rc.RampingVersion.BuildID, rc.RampingVersionPercentage
	}
	for _, v := range desc.Info.VersionSummaries {
		vs := versionStatus{BuildID: v.Version.BuildID, CreatedAt: v.CreateTime.UTC()}
		switch {
		case vs.BuildID == d.Current:
			vs.Status = "current"
		case vs.BuildID == d.Ramping:
			vs.Status = "ramping"
		case v.DrainageStatus == tclient.WorkerDeploymentVersionDrainageStatusDraining:
			vs.Status = "draining"
		case v.DrainageStatus == tclient.WorkerDeploymentVersionDrainageStatusDrained:
			vs.Status = "drained"
		default:
			vs.Status = "inactive"
		}
		q := fmt.Sprintf("TemporalWorkerDeploymentVersion = %s AND ExecutionStatus = 'Running'",
			quoteVisibility(wiring.Deployment{Name: name, BuildID: vs.BuildID}.String()))
		if vs.Running, err = countWorkflows(ctx, c, q); err != nil {
			return deployment{}, fmt.Errorf("count running workflows of version %s: %w", vs.BuildID, err)
		}
		d.Versions = append(d.Versions, vs)
	}
	if d.Unversioned, err = countWorkflows(ctx, c, "TemporalWorkerDeploymentVersion IS NULL AND ExecutionStatus = 'Running'"); err != nil {
		return deployment{}, fmt.Errorf("count running unversioned workflows: %w", err)
	}
	// Newest first: the current version at the top, the oldest to retire at the bottom.
	sort.SliceStable(d.Versions, func(i, j int) bool { return d.Versions[i].CreatedAt.After(d.Versions[j].CreatedAt) })
	return d, nil
}

func (d deployment) write(w io.Writer) {
	cur := d.Current
	if cur == "" {
		cur = "none (new workflows wait for one: `underwriter deploy set-current`)"
	}
	fmt.Fprintf(w, "deployment %s: current version %s", d.Name, cur)
	if d.Ramping != "" {
		fmt.Fprintf(w, ", ramping %s at %g%%", d.Ramping, d.RampPct)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BUILD ID\tSTATUS\tCREATED\tRUNNING WORKFLOWS\tWORKERS NEEDED")
	for _, v := range d.Versions {
		needed := "yes"
		if v.Status != "current" && v.Status != "ramping" && v.Running == 0 {
			needed = "no"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", v.BuildID, v.Status, v.CreatedAt.Format(time.RFC3339), v.Running, needed)
	}
	tw.Flush()
	if d.Unversioned > 0 {
		fmt.Fprintf(w, "%d running workflows are on no version (started by unversioned workers): they move to the current version\n", d.Unversioned)
	}
}

func countWorkflows(ctx context.Context, c tclient.Client, query string) (int64, error) {
	resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
	if err != nil {
		return 0, err
	}
	return resp.GetCount(), nil
}

// quoteVisibility quotes s as a string literal of Temporal's visibility query language.
func quoteVisibility(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "\\'") + "'"
}

// deployError explains a deployment the server does not know.
func deployError(err error, name string) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("%w (no worker of deployment %s has polled this Temporal namespace yet)", err, name)
	}
	return err
}
