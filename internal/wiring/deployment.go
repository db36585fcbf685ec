package wiring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cashflow-underwriting/underwriter/workflows"
)

// DefaultDeploymentName is the Temporal Worker Deployment every underwriter worker belongs
// to unless configured otherwise: one deployment, one version per build.
const DefaultDeploymentName = "underwriter"

// maxDeploymentField is the longest deployment name or build id accepted. Temporal allows
// (MaxIDLengthLimit 1000 − 39) / 2 = 480 characters; 255 is the limit of its older build
// id APIs, and far above any real name.
const maxDeploymentField = 255

// currentVersionPoll is how often SetCurrentVersion asks whether the server knows a
// version yet: it learns of one from the version's first poll, within a second or so.
const currentVersionPoll = 200 * time.Millisecond

// Deployment is a worker's Worker Deployment Version: the deployment it belongs to and
// the build it runs. The zero Deployment is an unversioned worker.
type Deployment struct {
	// Name is the Worker Deployment's name (DefaultDeploymentName).
	Name string
	// BuildID identifies the code: workers with one build id run identical workflow code.
	BuildID string
}

// Versioned reports whether d declares a version (a deployment name).
func (d Deployment) Versioned() bool { return d.Name != "" }

// String is the version as Temporal spells it in the TemporalWorkerDeploymentVersion
// search attribute and as decisions record it, "<name>:<build id>"; "" when unversioned.
func (d Deployment) String() string {
	if !d.Versioned() {
		return ""
	}
	return d.Name + ":" + d.BuildID
}

// Version is d as the SDK's version.
func (d Deployment) Version() worker.WorkerDeploymentVersion {
	return worker.WorkerDeploymentVersion{DeploymentName: d.Name, BuildID: d.BuildID}
}

// CheckDeploymentName refuses a deployment name Temporal would refuse at the worker's
// first poll: it may not contain '.' or ':' (the delimiters of its version strings), start
// with "__" or be longer than 255 characters. "" is allowed: an unversioned worker.
func CheckDeploymentName(name string) error {
	switch {
	case strings.ContainsAny(name, ".:"):
		return fmt.Errorf("%q contains '.' or ':', which Temporal's version strings use as delimiters", name)
	case strings.HasPrefix(name, "__"):
		return fmt.Errorf("%q starts with \"__\", which Temporal reserves", name)
	case len(name) > maxDeploymentField:
		return fmt.Errorf("%d characters, more than %d", len(name), maxDeploymentField)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%q has leading or trailing spaces", name)
	}
	return nil
}

// CheckBuildID refuses a build id Temporal would refuse: empty, starting with "__", or
// longer than 255 characters.
func CheckBuildID(id string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return errors.New("empty: a versioned worker needs a build id")
	case strings.HasPrefix(id, "__"):
		return fmt.Errorf("%q starts with \"__\", which Temporal reserves", id)
	case len(id) > maxDeploymentField:
		return fmt.Errorf("%d characters, more than %d", len(id), maxDeploymentField)
	case strings.TrimSpace(id) != id:
		return fmt.Errorf("%q has leading or trailing spaces", id)
	}
	return nil
}

// workerOptions are the SDK options of a worker with o's settings. A versioned worker
// polls only for its own version's tasks: workflows pinned to it, and new ones while it
// is the deployment's current version.
func (o WorkerOptions) workerOptions() worker.Options {
	wo := worker.Options{
		MaxConcurrentActivityExecutionSize:     o.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskExecutionSize: o.MaxConcurrentWorkflows,
	}
	if o.Deployment.Versioned() {
		wo.DeploymentOptions = worker.DeploymentOptions{UseVersioning: true, Version: o.Deployment.Version()}
	}
	return wo
}

// NewBareWorker returns a worker on the workflows' task queue with o's options and
// deployment version and nothing registered. NewWorker is the production worker; a test
// uses this one to run other workflow code under the production names, registered with
// WorkflowRegisterOptions.
func NewBareWorker(c tclient.Client, o WorkerOptions) worker.Worker {
	return worker.New(c, taskQueue, o.workerOptions())
}

// WorkflowRegisterOptions are the registration options of the workflow named name. Every
// underwriter workflow but Monitor is pinned (workflow.VersioningBehaviorPinned), so a run
// stays on the Worker Deployment Version it started on until it ends, and a new build that
// changes the workflow's commands needs no workflow.GetVersion branch for the runs already
// open. Underwrite waits up to a day and a half for its applicant, its refresh and its
// account; Rescore scores a whole batch, whose results must all come from one build.
//
// Monitor, a loan's watcher, runs for the loan's term, months: pinned, it would keep every
// old build running until its last loan ends. It is registered
// workflow.VersioningBehaviorAutoUpgrade: its runs move to the current version, and its
// changes go behind workflow.GetVersion with recorded histories that replay
// (testdata/histories/monitor). On an unversioned worker the behaviour is not used.
func WorkflowRegisterOptions(name string) workflow.RegisterOptions {
	if name == workflows.MonitorWorkflowName {
		return workflow.RegisterOptions{Name: name, VersioningBehavior: workflow.VersioningBehaviorAutoUpgrade}
	}
	return workflow.RegisterOptions{Name: name, VersioningBehavior: workflow.VersioningBehaviorPinned}
}

// SetCurrentVersion makes d the current version of its Worker Deployment, the version
// every new workflow starts on (and the unversioned and auto-upgrade ones move to). With
// onlyIfNone it does so only when the deployment has no current version (its first
// deploy), and leaves a deployment whose current version is another build alone: moving
// to a new build is an operator's `underwriter deploy set-current`.
//
// The server learns of a version from its workers' first polls, so SetCurrentVersion
// waits, until ctx ends, for d to be known: call it after a worker of d has started. It
// reports whether it changed the current version. Two workers racing to claim an empty
// deployment pass the conflict token of what they read, so the second one's change is
// refused, and it finds the version set.
func SetCurrentVersion(ctx context.Context, c tclient.Client, d Deployment, onlyIfNone bool) (bool, error) {
	if !d.Versioned() {
		return false, errors.New("set current version: the worker is unversioned (no deployment name)")
	}
	h := c.WorkerDeploymentClient().GetHandle(d.Name)
	var lastErr error
	for {
		ready, err := VersionReady(ctx, c, d)
		switch {
		case err != nil:
			lastErr = err
		case !ready:
			lastErr = fmt.Errorf("version %s is not registered yet: it is once its workers poll for workflow and activity tasks", d)
		default:
			var set bool
			if set, lastErr = setCurrent(ctx, h, d, onlyIfNone); lastErr == nil {
				return set, nil
			}
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("set current version %s: %w (last: %v)", d, ctx.Err(), lastErr)
		case <-time.After(currentVersionPoll):
		}
	}
}

// setCurrent is one attempt of SetCurrentVersion on a registered version.
func setCurrent(ctx context.Context, h tclient.WorkerDeploymentHandle, d Deployment, onlyIfNone bool) (bool, error) {
	desc, err := h.Describe(ctx, tclient.WorkerDeploymentDescribeOptions{})
	if err != nil {
		return false, fmt.Errorf("describe deployment %s: %w", d.Name, err)
	}
	cur := desc.Info.RoutingConfig.CurrentVersion
	if cur != nil && (cur.BuildID == d.BuildID || onlyIfNone) {
		return false, nil
	}
	if _, err := h.SetCurrentVersion(ctx, tclient.WorkerDeploymentSetCurrentVersionOptions{
		BuildID: d.BuildID, ConflictToken: desc.ConflictToken,
	}); err != nil {
		return false, fmt.Errorf("set current version of deployment %s to %s: %w", d.Name, d.BuildID, err)
	}
	return true, nil
}

// VersionReady reports whether the server has registered version d on the workflows' task
// queue for both workflow and activity tasks, which it does as d's workers first poll for
// each. Until both are, the server refuses to make d current when another version is (the
// activity queue "would become unversioned"). An unknown deployment or version is not
// ready; other errors are returned.
func VersionReady(ctx context.Context, c tclient.Client, d Deployment) (bool, error) {
	desc, err := c.WorkerDeploymentClient().GetHandle(d.Name).DescribeVersion(ctx,
		tclient.WorkerDeploymentDescribeVersionOptions{BuildID: d.BuildID})
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("describe version %s: %w", d, err)
	}
	var wf, act bool
	for _, q := range desc.Info.TaskQueuesInfos {
		if q.Name != taskQueue {
			continue
		}
		wf = wf || q.Type == tclient.TaskQueueTypeWorkflow
		act = act || q.Type == tclient.TaskQueueTypeActivity
	}
	return wf && act, nil
}

// LogCurrentVersion runs SetCurrentVersion(onlyIfNone) for a worker that has just started,
// within timeout, and logs what it did; it is meant to run beside the worker, which
// serves its pinned workflows whether or not it becomes current.
func LogCurrentVersion(ctx context.Context, c tclient.Client, d Deployment, timeout time.Duration, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	set, err := SetCurrentVersion(ctx, c, d, true)
	switch {
	case err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled):
		// The worker is stopping.
	case err != nil:
		logger.Error("could not make this worker's version current; new workflows start on the deployment's current version, set it with `underwriter deploy set-current`",
			"deployment_version", d.String(), "err", err)
	case set:
		logger.Info("the deployment had no current version: this worker's version is now current", "deployment_version", d.String())
	default:
		logger.Info("the deployment already has a current version: left as it is (`underwriter deploy status` shows it)",
			"deployment_version", d.String())
	}
}
