package server

import (
	"context"
	"time"

	"schedsvc/gen/api"
	"schedsvc/problem"
	"schedsvc/schedules"
)

func (s *Server) TriggerSchedule(ctx context.Context, req api.TriggerScheduleRequestObject) (api.TriggerScheduleResponseObject, error) {
	o, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	var overlap *schedules.OverlapPolicy
	if req.Body != nil {
		overlap = fromAPIOverlap(req.Body.OverlapPolicy)
	}
	t, err := s.manager.Trigger(ctx, o, req.Id, overlap)
	if err != nil {
		return nil, err
	}
	return api.TriggerSchedule202JSONResponse{Body: api.TriggerAccepted{ScheduleId: t.ScheduleID, TriggeredAt: t.TriggeredAt.UTC()}}, nil
}

func (s *Server) BackfillSchedule(ctx context.Context, req api.BackfillScheduleRequestObject) (api.BackfillScheduleResponseObject, error) {
	o, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	b := req.Body
	if b == nil { // the validator refuses a missing body first
		return nil, problem.Invalid(problem.InvalidRequest, "", "the request needs a body with start and end")
	}
	done, err := s.manager.Backfill(ctx, o, req.Id, schedules.BackfillInput{Start: b.Start, End: b.End, Overlap: fromAPIOverlap(b.OverlapPolicy)})
	if err != nil {
		return nil, err
	}
	out := api.BackfillAccepted{ScheduleId: done.ScheduleID, Count: len(done.Times), TriggeredAt: make([]time.Time, len(done.Times))}
	for i, t := range done.Times {
		out.TriggeredAt[i] = t.UTC()
	}
	return api.BackfillSchedule202JSONResponse{Body: out}, nil
}
