package server

import (
	"bytes"
	"context"
	"errors"
	"time"

	contract "schedsvc/api"
	"schedsvc/gen/api"
	"schedsvc/notify"
	"schedsvc/ptrutil"
	"schedsvc/schedules"
	"schedsvc/server/docs"
)

var _ api.StrictServerInterface = (*Server)(nil)

// Default page sizes, as declared in the spec.
const (
	defaultSchedulesPageSize = 50
	defaultRunsPageSize      = 20
)

// errNoOwner means a handler ran without the auth middleware in front.
var errNoOwner = errors.New("request reached a handler without an authenticated owner")

func owner(ctx context.Context) (schedules.Owner, error) {
	o, ok := ownerFrom(ctx)
	if !ok {
		return schedules.Owner{}, errNoOwner
	}
	return o, nil
}

func (s *Server) CreateSchedule(ctx context.Context, req api.CreateScheduleRequestObject) (api.CreateScheduleResponseObject, error) {
	o, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	b := req.Body
	in := schedules.CreateInput{
		Name:               b.Name,
		CronExpression:     b.CronExpression,
		TaskQuery:          b.TaskQuery,
		MaxBudgetPerRunUSD: b.MaxBudgetPerRunUsd,
		TimeoutSeconds:     b.TimeoutSeconds,
		Executor:           fromAPIExecutor(b.Executor),
		Retry:              fromAPIRetry(b.RetryPolicy),
		Overlap:            fromAPIOverlap(b.OverlapPolicy),
		PauseAfterFailures: b.PauseAfterFailures,
		StartAt:            b.StartAt,
		EndAt:              b.EndAt,
		MaxRuns:            b.MaxRuns,
		Notify:             fromAPINotify(b.Notify),
	}
	ptrutil.SetIf(&in.Description, b.Description)
	ptrutil.SetIf(&in.Timezone, b.Timezone)
	ptrutil.SetIf(&in.TaskContext, b.TaskContext)
	created, err := s.manager.Create(ctx, o, in)
	if err != nil {
		return nil, err
	}
	return api.CreateSchedule201JSONResponse{
		Body: api.ScheduleCreated{
			ScheduleId: created.ID,
			Message:    "Schedule created",
			NextRunAt:  utc(created.NextRunAt),
		},
		Headers: api.CreateSchedule201ResponseHeaders{Location: "/api/v1/schedules/" + created.ID.String()},
	}, nil
}

func (s *Server) ListSchedules(ctx context.Context, req api.ListSchedulesRequestObject) (api.ListSchedulesResponseObject, error) {
	o, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	var status *schedules.Status
	if req.Params.Status != nil {
		status = ptrutil.Ptr(schedules.Status(*req.Params.Status))
	}
	page, err := s.manager.List(ctx, o, status, pageRequest(req.Params.Page, req.Params.PageSize, req.Params.Cursor, defaultSchedulesPageSize))
	if err != nil {
		return nil, err
	}
	out := api.ScheduleList{Schedules: make([]api.Schedule, len(page.Items)), Total: page.Total, Page: page.Page, PageSize: page.PageSize, NextCursor: page.NextCursor}
	for i, sc := range page.Items {
		out.Schedules[i] = toAPISchedule(sc)
	}
	return api.ListSchedules200JSONResponse{Body: out}, nil
}

func (s *Server) GetSchedule(ctx context.Context, req api.GetScheduleRequestObject) (api.GetScheduleResponseObject, error) {
	o, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := s.manager.Get(ctx, o, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetSchedule200JSONResponse{Body: toAPISchedule(sc)}, nil
}

func (s *Server) UpdateSchedule(ctx context.Context, req api.UpdateScheduleRequestObject) (api.UpdateScheduleResponseObject, error) {
	o, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	b := req.Body
	in := schedules.UpdateInput{
		Name:               b.Name,
		Description:        b.Description,
		CronExpression:     b.CronExpression,
		Timezone:           b.Timezone,
		TaskQuery:          b.TaskQuery,
		MaxBudgetPerRunUSD: b.MaxBudgetPerRunUsd,
		TimeoutSeconds:     b.TimeoutSeconds,
		ClearTaskContext:   b.ClearTaskContext != nil && *b.ClearTaskContext,
		Executor:           fromAPIExecutor(b.Executor),
		Retry:              fromAPIRetry(b.RetryPolicy),
		Overlap:            fromAPIOverlap(b.OverlapPolicy),
		PauseAfterFailures: b.PauseAfterFailures,
		StartAt:            b.StartAt,
		ClearStartAt:       b.ClearStartAt != nil && *b.ClearStartAt,
		EndAt:              b.EndAt,
		ClearEndAt:         b.ClearEndAt != nil && *b.ClearEndAt,
		MaxRuns:            b.MaxRuns,
		ClearMaxRuns:       b.ClearMaxRuns != nil && *b.ClearMaxRuns,
		Notify:             fromAPINotify(b.Notify),
		ClearNotify:        b.ClearNotify != nil && *b.ClearNotify,
	}
	ptrutil.SetIf(&in.TaskContext, b.TaskContext)
	sc, err := s.manager.Update(ctx, o, req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.UpdateSchedule200JSONResponse{Body: toAPISchedule(sc)}, nil
}

func (s *Server) PauseSchedule(ctx context.Context, req api.PauseScheduleRequestObject) (api.PauseScheduleResponseObject, error) {
	o, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := s.manager.Pause(ctx, o, req.Id, reason(req.Body))
	if err != nil {
		return nil, err
	}
	return api.PauseSchedule200JSONResponse{Body: toAPISchedule(sc)}, nil
}

func (s *Server) ResumeSchedule(ctx context.Context, req api.ResumeScheduleRequestObject) (api.ResumeScheduleResponseObject, error) {
	o, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := s.manager.Resume(ctx, o, req.Id, reason(req.Body))
	if err != nil {
		return nil, err
	}
	return api.ResumeSchedule200JSONResponse{Body: toAPISchedule(sc)}, nil
}

func (s *Server) DeleteSchedule(ctx context.Context, req api.DeleteScheduleRequestObject) (api.DeleteScheduleResponseObject, error) {
	o, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.manager.Delete(ctx, o, req.Id); err != nil {
		return nil, err
	}
	return api.DeleteSchedule204Response{}, nil
}

func (s *Server) GetHealthz(context.Context, api.GetHealthzRequestObject) (api.GetHealthzResponseObject, error) {
	return api.GetHealthz200JSONResponse{Body: api.Health{Status: api.HealthStatusOk}}, nil
}

func (s *Server) GetReadyz(ctx context.Context, _ api.GetReadyzRequestObject) (api.GetReadyzResponseObject, error) {
	body, ready := s.ready.check(ctx)
	if !ready {
		return api.GetReadyz503JSONResponse{Body: body}, nil
	}
	return api.GetReadyz200JSONResponse{Body: body}, nil
}

func toAPISchedule(s schedules.Schedule) api.Schedule {
	out := api.Schedule{
		Id:                  s.ID,
		UserId:              s.Owner.UserID,
		TenantId:            s.Owner.TenantID,
		Name:                s.Name,
		Description:         s.Description,
		CronExpression:      s.CronExpression,
		Timezone:            s.Timezone,
		TaskQuery:           s.TaskQuery,
		MaxBudgetPerRunUsd:  s.MaxBudgetPerRunUSD,
		TimeoutSeconds:      s.TimeoutSeconds,
		Status:              api.ScheduleStatus(s.Status),
		CreatedAt:           s.CreatedAt.UTC(),
		UpdatedAt:           s.UpdatedAt.UTC(),
		LastRunAt:           utc(s.LastRunAt),
		NextRunAt:           utc(s.NextRunAt),
		TotalRuns:           s.TotalRuns,
		SuccessfulRuns:      s.SuccessfulRuns,
		FailedRuns:          s.FailedRuns,
		TotalTokens:         s.TotalTokens,
		TotalCostUsd:        s.TotalCostUSD,
		PausedAt:            utc(s.PausedAt),
		PausedBy:            s.PausedBy,
		PauseReason:         s.PauseReason,
		ResumedAt:           utc(s.ResumedAt),
		ResumedBy:           s.ResumedBy,
		ResumeReason:        s.ResumeReason,
		Executor:            api.Executor(s.Executor),
		RetryPolicy:         toAPIRetry(s.Retry),
		OverlapPolicy:       api.OverlapPolicy(s.Overlap),
		PauseAfterFailures:  s.PauseAfterFailures,
		ConsecutiveFailures: s.ConsecutiveFailures,
		SkippedRuns:         s.SkippedRuns,
		StartAt:             utc(s.StartAt),
		EndAt:               utc(s.EndAt),
		MaxRuns:             s.MaxRuns,
		CompletedAt:         utc(s.CompletedAt),
	}
	out.NextRuns, out.PreviousRunAt = schedules.UpcomingRuns(s, time.Now())
	if s.TaskContext != nil {
		out.TaskContext = &s.TaskContext
	}
	if s.Notify.URL != "" {
		out.Notify = &api.NotifyTarget{Url: s.Notify.URL, On: make([]api.NotifyKind, len(s.Notify.On))}
		for i, k := range s.Notify.On {
			out.Notify.On[i] = api.NotifyKind(k)
		}
	}
	return out
}

func fromAPINotify(t *api.NotifyTargetRequest) *notify.Target {
	if t == nil {
		return nil
	}
	out := &notify.Target{URL: t.Url, On: make([]notify.Kind, len(t.On))}
	for i, k := range t.On {
		out.On[i] = notify.Kind(k)
	}
	return out
}

func pageRequest(page, size *int, cursor *string, defaultSize int) schedules.PageRequest {
	p := schedules.PageRequest{Page: 1, PageSize: defaultSize}
	ptrutil.SetIf(&p.Page, page)
	ptrutil.SetIf(&p.PageSize, size)
	ptrutil.SetIf(&p.Cursor, cursor)
	return p
}

func reason(b *api.ScheduleActionRequest) string {
	if b == nil || b.Reason == nil {
		return ""
	}
	return *b.Reason
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (s *Server) GetOpenAPIYAML(context.Context, api.GetOpenAPIYAMLRequestObject) (api.GetOpenAPIYAMLResponseObject, error) {
	return api.GetOpenAPIYAML200ApplicationyamlResponse{Body: bytes.NewReader(contract.YAML), ContentLength: int64(len(contract.YAML))}, nil
}

func (s *Server) GetOpenAPIJSON(context.Context, api.GetOpenAPIJSONRequestObject) (api.GetOpenAPIJSONResponseObject, error) {
	return api.GetOpenAPIJSON200JSONResponse{Body: s.contractJSON}, nil
}

func (s *Server) GetDocs(context.Context, api.GetDocsRequestObject) (api.GetDocsResponseObject, error) {
	return api.GetDocs200TexthtmlResponse{
		Body:          bytes.NewReader(docs.Page),
		ContentLength: int64(len(docs.Page)),
		Headers:       api.GetDocs200ResponseHeaders{ContentSecurityPolicy: docs.ContentSecurityPolicy},
	}, nil
}

func (s *Server) GetDocsScript(context.Context, api.GetDocsScriptRequestObject) (api.GetDocsScriptResponseObject, error) {
	return api.GetDocsScript200TextjavascriptResponse{Body: bytes.NewReader(docs.Script), ContentLength: int64(len(docs.Script))}, nil
}
