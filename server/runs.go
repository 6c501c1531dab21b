package server

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"schedsvc/gen/api"
	"schedsvc/ptrutil"
	"schedsvc/schedules"
)

func (s *Server) ListScheduleRuns(ctx context.Context, req api.ListScheduleRunsRequestObject) (api.ListScheduleRunsResponseObject, error) {
	o, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	page, err := s.manager.Runs(ctx, o, req.Id, pageRequest(req.Params.Page, req.Params.PageSize, req.Params.Cursor, defaultRunsPageSize))
	if err != nil {
		return nil, err
	}
	out := api.RunList{Runs: make([]api.Run, len(page.Items)), Total: page.Total, Page: page.Page, PageSize: page.PageSize, NextCursor: page.NextCursor}
	if sc := page.Schedule; sc != nil {
		out.ScheduleStatus = api.ScheduleStatus(sc.Status)
		if sc.Status == schedules.StatusPaused {
			out.SchedulePauseReason = sc.PauseReason
		}
	}
	for i, r := range page.Items {
		out.Runs[i] = toAPIRun(r)
	}
	return api.ListScheduleRuns200JSONResponse{Body: out}, nil
}

func (s *Server) GetScheduleRun(ctx context.Context, req api.GetScheduleRunRequestObject) (api.GetScheduleRunResponseObject, error) {
	o, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.manager.Run(ctx, o, req.Id, req.RunId)
	if err != nil {
		return nil, err
	}
	r := toAPIRun(d.Run)
	out := api.RunDetail{
		Id: r.Id, WorkflowId: r.WorkflowId, Query: r.Query, Status: r.Status, Result: r.Result,
		ErrorMessage: r.ErrorMessage, ModelUsed: r.ModelUsed, Provider: r.Provider,
		TotalTokens: r.TotalTokens, TotalCostUsd: r.TotalCostUsd, DurationMs: r.DurationMs,
		TriggeredAt: r.TriggeredAt, StartedAt: r.StartedAt, CompletedAt: r.CompletedAt,
		Executor: (*api.RunDetailExecutor)(r.Executor), PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens,
		AttemptCount: r.AttemptCount, PausedSchedule: r.PausedSchedule, Trigger: r.Trigger,
		Attempts:      make([]api.RunAttempt, len(d.Attempts)),
		Notifications: make([]api.NotificationDelivery, 0, len(d.Notifications)),
	}
	for _, n := range d.Notifications {
		eventID, err := uuid.Parse(n.EventID)
		if err != nil {
			return nil, fmt.Errorf("notification of run %s: event id %q: %w", d.ID, n.EventID, err)
		}
		out.Notifications = append(out.Notifications, api.NotificationDelivery{
			EventId:       eventID,
			Kind:          api.NotifyKind(n.Kind),
			Url:           n.URL,
			Delivered:     n.Delivered,
			Attempts:      n.Attempts,
			StatusCode:    ptrutil.NilIfZero(n.StatusCode),
			LastError:     ptrutil.NilIfZero(n.LastError),
			LastAttemptAt: n.LastAttemptAt.UTC(),
			NextAttemptAt: utc(n.NextAttemptAt),
		})
	}
	for i, a := range d.Attempts {
		out.Attempts[i] = api.RunAttempt{
			Attempt:          a.Number,
			Status:           api.RunStatus(a.Status),
			ErrorMessage:     ptrutil.NilIfZero(a.ErrorMessage),
			ModelUsed:        ptrutil.NilIfZero(a.ModelUsed),
			PromptTokens:     a.PromptTokens,
			CompletionTokens: a.CompletionTokens,
			TotalTokens:      a.TotalTokens,
			TotalCostUsd:     a.CostUSD,
			StartedAt:        a.StartedAt.UTC(),
			CompletedAt:      a.CompletedAt.UTC(),
			DurationMs:       a.CompletedAt.Sub(a.StartedAt).Milliseconds(),
		}
		if a.MaxTokens > 0 {
			out.Attempts[i].MaxTokens = &a.MaxTokens
		}
	}
	return api.GetScheduleRun200JSONResponse{Body: out}, nil
}

func toAPIRun(r schedules.Run) api.Run {
	return api.Run{
		Id:               r.ID,
		WorkflowId:       r.WorkflowID,
		Query:            r.Query,
		Status:           api.RunStatus(r.Status),
		Result:           r.Result,
		ErrorMessage:     r.ErrorMessage,
		ModelUsed:        r.ModelUsed,
		Provider:         r.Provider,
		TotalTokens:      r.TotalTokens,
		TotalCostUsd:     r.TotalCostUSD,
		DurationMs:       r.DurationMS,
		TriggeredAt:      r.TriggeredAt.UTC(),
		StartedAt:        r.StartedAt.UTC(),
		CompletedAt:      utc(r.CompletedAt),
		Executor:         (*api.RunExecutor)(r.Executor),
		PromptTokens:     r.PromptTokens,
		CompletionTokens: r.CompletionTokens,
		AttemptCount:     r.AttemptCount,
		PausedSchedule:   r.PausedSchedule,
		Trigger:          api.RunTrigger(r.Trigger),
	}
}

// Conversions of the execution settings (executor, retry, overlap, failure
// policy) between the API and the domain.

func toAPIRetry(p schedules.RetryPolicy) api.RetryPolicy {
	return api.RetryPolicy{MaxAttempts: p.MaxAttempts, InitialBackoffSeconds: p.InitialBackoffSeconds, MaxBackoffSeconds: p.MaxBackoffSeconds}
}

func fromAPIRetry(p *api.RetryPolicyRequest) *schedules.RetryPolicy {
	if p == nil {
		return nil
	}
	out := &schedules.RetryPolicy{MaxAttempts: p.MaxAttempts}
	ptrutil.SetIf(&out.InitialBackoffSeconds, p.InitialBackoffSeconds)
	ptrutil.SetIf(&out.MaxBackoffSeconds, p.MaxBackoffSeconds)
	return out
}

func fromAPIExecutor(e *api.Executor) *schedules.Executor {
	if e == nil {
		return nil
	}
	return ptrutil.Ptr(schedules.Executor(*e))
}

func fromAPIOverlap(o *api.OverlapPolicy) *schedules.OverlapPolicy {
	if o == nil {
		return nil
	}
	return ptrutil.Ptr(schedules.OverlapPolicy(*o))
}
