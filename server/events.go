package server

import (
	"context"

	"schedsvc/gen/api"
	"schedsvc/ptrutil"
	"schedsvc/schedules"
)

const defaultEventsPageSize = 20

func (s *Server) ListScheduleEvents(ctx context.Context, req api.ListScheduleEventsRequestObject) (api.ListScheduleEventsResponseObject, error) {
	o, err := owner(ctx)
	if err != nil {
		return nil, err
	}
	page, err := s.manager.Events(ctx, o, req.Id, pageRequest(nil, req.Params.PageSize, req.Params.Cursor, defaultEventsPageSize))
	if err != nil {
		return nil, err
	}
	out := api.ScheduleEventList{Events: make([]api.ScheduleEvent, len(page.Items)), PageSize: page.PageSize, NextCursor: page.NextCursor}
	for i, e := range page.Items {
		out.Events[i] = toAPIEvent(e)
	}
	return api.ListScheduleEvents200JSONResponse{Body: out}, nil
}

func toAPIEvent(e schedules.Event) api.ScheduleEvent {
	out := api.ScheduleEvent{
		Id:        e.ID,
		Kind:      api.ScheduleEventKind(e.Kind),
		Actor:     e.Actor,
		Reason:    ptrutil.NilIfZero(e.Reason),
		CreatedAt: e.CreatedAt.UTC(),
	}
	if len(e.Changes) > 0 {
		changes := make(map[string]api.ScheduleFieldChange, len(e.Changes))
		for field, c := range e.Changes {
			changes[field] = api.ScheduleFieldChange{Old: c.Old, New: c.New}
		}
		out.Changes = &changes
	}
	return out
}
