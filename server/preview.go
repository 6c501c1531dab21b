package server

import (
	"context"
	"time"

	"schedsvc/gen/api"
	"schedsvc/ptrutil"
	"schedsvc/schedules"
)

const defaultPreviewCount = 5

func (s *Server) PreviewCron(_ context.Context, req api.PreviewCronRequestObject) (api.PreviewCronResponseObject, error) {
	p := req.Params
	tz, count, from := "UTC", defaultPreviewCount, time.Now()
	ptrutil.SetIf(&tz, p.Timezone)
	ptrutil.SetIf(&count, p.Count)
	ptrutil.SetIf(&from, p.From)
	var w schedules.Window
	ptrutil.SetIf(&w.Start, p.StartAt)
	ptrutil.SetIf(&w.End, p.EndAt)
	preview, err := s.manager.Preview(p.CronExpression, tz, count, from, w)
	if err != nil {
		return nil, err
	}
	return api.PreviewCron200JSONResponse{Body: api.CronPreview{
		CronExpression: p.CronExpression,
		Timezone:       tz,
		Description:    preview.Description,
		Times:          preview.Times,
		PreviousRunAt:  preview.Previous,
	}}, nil
}
