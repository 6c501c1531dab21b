package schedules

import (
	"context"
	"errors"
	"fmt"
	"schedsvc/schedules/cron"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"schedsvc/config"
)

// WorkflowName is the workflow type every schedule's action starts; the
// worker registers its function under this name.
const WorkflowName = "ScheduledTaskWorkflow"

// runTimeoutGrace is added to a schedule's timeout_seconds for the workflow
// run timeout, so that a task which uses its whole budget of time can still
// be recorded as TIMED_OUT by the workflow instead of vanishing.
const runTimeoutGrace = time.Minute

// TemporalConfig says where schedule actions run and how long the manager
// waits for Temporal before answering "unavailable"; config reads it.
type TemporalConfig = config.Temporal

// TemporalScheduleID derives the Temporal schedule id from the schedule id:
// the same schedule always maps to the same Temporal schedule, which makes a
// retried create idempotent.
func TemporalScheduleID(id uuid.UUID) string { return temporalIDPrefix + id.String() }

const temporalIDPrefix = "schedule-"

// workflowIDPrefix is the action's workflow id; Temporal appends the nominal
// time of each firing to it.
func workflowIDPrefix(id uuid.UUID) string { return "scheduled-run-" + id.String() }

// runWorkflowID is the workflow id Temporal gives the schedule's run for
// the nominal time at.
func runWorkflowID(id uuid.UUID, at time.Time) string {
	return workflowIDPrefix(id) + "-" + at.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// temporalSchedules is every call the package makes to Temporal's
// schedules, each under the configured deadline, with failures to reach
// Temporal marked ErrUnavailable.
type temporalSchedules struct {
	client client.ScheduleClient
	// service makes the calls the schedule client cannot: a trigger with
	// a nominal time of our choosing, backfills in one request.
	service workflowservice.WorkflowServiceClient
	cfg     TemporalConfig
}

func (t temporalSchedules) action(s Schedule) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:        workflowIDPrefix(s.ID),
		Workflow:  WorkflowName,
		TaskQueue: t.cfg.TaskQueue,
		Args: []any{RunInput{
			ScheduleID:         s.ID.String(),
			UserID:             s.Owner.UserID,
			TenantID:           s.Owner.TenantID,
			TaskQuery:          s.TaskQuery,
			TaskContext:        s.TaskContext,
			MaxBudgetPerRunUSD: s.MaxBudgetPerRunUSD,
			TimeoutSeconds:     s.TimeoutSeconds,
			Executor:           s.Executor,
			Retry:              s.Retry,
		}},
		WorkflowRunTimeout: time.Duration(s.TimeoutSeconds)*time.Second + runTimeoutGrace,
	}
}

func (t temporalSchedules) create(ctx context.Context, s Schedule, timing *cron.Schedule, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.CallTimeout)
	defer cancel()
	// RemainingActions 0 is "unlimited" to the SDK; no create has max_runs
	// used up: the reconciler, the only one to create a schedule with runs,
	// completes such a schedule instead and never recreates a COMPLETED one.
	remaining, _ := remainingRuns(s)
	_, err := t.client.Create(ctx, client.ScheduleOptions{
		ID:               TemporalScheduleID(s.ID),
		Spec:             temporalSpec(s, timing, now),
		Action:           t.action(s),
		Overlap:          overlapPolicies[s.Overlap],
		CatchupWindow:    t.cfg.CatchupWindow,
		Note:             "created by schedule service",
		RemainingActions: remaining,
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return nil
	}
	return temporalErr("create temporal schedule", err)
}

// temporalUpdate rewrites the Temporal schedule: the spec when spec is
// set (the whole spec: appending to the described one would duplicate
// calendars on every update), the action when updateAction is set, and the
// paused state when unpauseNote is set, and the run limit (max_runs as
// limited actions) when writeLimit is set. Temporal's update writes back
// the whole schedule, state included, so unpausing in a separate call
// could be overwritten by it; one update does both.
func (t temporalSchedules) update(ctx context.Context, s Schedule, spec *client.ScheduleSpec, updateAction, writeLimit bool, unpauseNote string) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.CallTimeout)
	defer cancel()
	h := t.client.GetHandle(ctx, TemporalScheduleID(s.ID))
	err := h.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			if spec != nil {
				sched.Spec = spec
			}
			if updateAction {
				sched.Action = t.action(s)
			}
			if sched.Policy == nil {
				sched.Policy = &client.SchedulePolicies{CatchupWindow: t.cfg.CatchupWindow}
			}
			sched.Policy.Overlap = overlapPolicies[s.Overlap]
			if writeLimit {
				sched.State = temporalState(s, sched.State)
			}
			if unpauseNote != "" {
				state := temporalState(s, nil)
				state.Paused, state.Note = false, unpauseNote
				sched.State = state
			}
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		},
	})
	return temporalErr("update temporal schedule", err)
}

func (t temporalSchedules) pause(ctx context.Context, id uuid.UUID, note string) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.CallTimeout)
	defer cancel()
	err := t.client.GetHandle(ctx, TemporalScheduleID(id)).Pause(ctx, client.SchedulePauseOptions{Note: note})
	return temporalErr("pause temporal schedule", err)
}

// trigger starts one run now whose nominal time, and so workflow id, is at.
// The SDK's Trigger cannot choose it, and the run's start record needs it
// to find the trigger's intent.
func (t temporalSchedules) trigger(ctx context.Context, id uuid.UUID, at time.Time, overlap *OverlapPolicy) error {
	return t.patch(ctx, "trigger temporal schedule", id, &schedulepb.SchedulePatch{
		TriggerImmediately: &schedulepb.TriggerImmediatelyRequest{OverlapPolicy: overlapOverride(overlap), ScheduledTime: timestamppb.New(at)},
	})
}

// backfill runs the schedule's firings at times. Each gets a window that
// holds exactly its time (Temporal's window ends inclusively), so every
// run's nominal time is one the caller knows.
func (t temporalSchedules) backfill(ctx context.Context, id uuid.UUID, times []time.Time, overlap *OverlapPolicy) error {
	reqs := make([]*schedulepb.BackfillRequest, len(times))
	for i, at := range times {
		reqs[i] = &schedulepb.BackfillRequest{
			StartTime: timestamppb.New(at.Add(-time.Second)), EndTime: timestamppb.New(at), OverlapPolicy: overlapOverride(overlap),
		}
	}
	return t.patch(ctx, "backfill temporal schedule", id, &schedulepb.SchedulePatch{BackfillRequest: reqs})
}

func (t temporalSchedules) patch(ctx context.Context, op string, id uuid.UUID, p *schedulepb.SchedulePatch) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.CallTimeout)
	defer cancel()
	namespace := t.cfg.Namespace
	if namespace == "" {
		namespace = client.DefaultNamespace
	}
	_, err := t.service.PatchSchedule(ctx, &workflowservice.PatchScheduleRequest{
		Namespace: namespace, ScheduleId: TemporalScheduleID(id), Patch: p,
		Identity: "schedule service", RequestId: uuid.NewString(),
	})
	return temporalErr(op, err)
}

// overlapOverride is Temporal's policy for one trigger or backfill:
// unspecified keeps the schedule's.
func overlapOverride(o *OverlapPolicy) enumspb.ScheduleOverlapPolicy {
	if o == nil {
		return enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED
	}
	return overlapPolicies[*o]
}

// overlapPolicies maps ours to Temporal's; it is also the set of valid ones.
var overlapPolicies = map[OverlapPolicy]enumspb.ScheduleOverlapPolicy{
	OverlapSkip:        enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	OverlapBufferOne:   enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
	OverlapBufferAll:   enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL,
	OverlapCancelOther: enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER,
	OverlapAllowAll:    enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
}

// temporalDelete removes the Temporal schedule; one that is already gone
// counts as deleted.
func (t temporalSchedules) delete(ctx context.Context, id uuid.UUID) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.CallTimeout)
	defer cancel()
	err := t.client.GetHandle(ctx, TemporalScheduleID(id)).Delete(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	return temporalErr("delete temporal schedule", err)
}

// describe returns the Temporal schedule; a missing one is returned as
// Temporal's *serviceerror.NotFound.
func (t temporalSchedules) describe(ctx context.Context, id uuid.UUID) (*client.ScheduleDescription, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.CallTimeout)
	defer cancel()
	d, err := t.client.GetHandle(ctx, TemporalScheduleID(id)).Describe(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil, err
	}
	return d, temporalErr("describe temporal schedule", err)
}

// skippedFirings is Temporal's count of the schedule's firings skipped for
// overlap, or 0 when it cannot be read (the next completion copies it).
func (t temporalSchedules) skippedFirings(ctx context.Context, id uuid.UUID) int64 {
	if t.client == nil || id == uuid.Nil {
		return 0
	}
	d, err := t.describe(ctx, id)
	if err != nil {
		return 0
	}
	return int64(d.Info.NumActionsSkippedOverlap)
}

// temporalRefused reports whether Temporal definitely did not carry out
// the call that failed with err: it refused the request as such. After any
// other failure (a timeout, a lost connection, an internal error) the call
// may have taken effect.
func temporalRefused(err error) bool {
	switch serviceerror.ToStatus(err).Code() {
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.PermissionDenied,
		codes.FailedPrecondition, codes.Unauthenticated, codes.OutOfRange, codes.Unimplemented,
		codes.ResourceExhausted:
		return true
	}
	return false
}

// temporalErr marks failures to reach Temporal as ErrUnavailable, so callers
// can answer 503 and the client can retry.
func temporalErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Canceled:
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	// The SDK hands back Temporal's own error types, which status.Code does not see through.
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var exhausted *serviceerror.ResourceExhausted
	if errors.As(err, &unavailable) || errors.As(err, &deadline) || errors.As(err, &exhausted) {
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
