package connect

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
)

// temporalTracing makes Temporal calls part of the caller's trace: the SDK's
// OpenTelemetry interceptor spans client calls and carries their context in
// the Temporal header to the workflows and activities they start (a worker
// built on the client runs it too, outermost, so workflow and activity spans
// continue that context), and actionTrace covers the one write the
// interceptor does not see.
func temporalTracing(tp trace.TracerProvider) (client.Options, error) {
	tracer, err := temporalotel.NewTracer(temporalotel.TracerOptions{Tracer: tp.Tracer("schedsvc/temporal")})
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal tracing: %w", err)
	}
	return client.Options{
		Interceptors:       []interceptor.ClientInterceptor{interceptor.NewTracingInterceptor(tracer)},
		ContextPropagators: []workflow.ContextPropagator{actionTrace{tracer}},
	}, nil
}

// actionTrace writes the caller's span into the header of every workflow
// start a client call describes, in the interceptor's own format. It exists
// for schedule updates: Temporal's scheduler starts each run with the
// header stored in the schedule's action, the interceptor writes that header
// on CreateSchedule, but ScheduleHandle.Update rewrites the action with a
// fresh header it does not intercept, which would leave every later run
// without a parent. With this, the runs after an update (or a resume, which
// is one) belong to that request's trace, as the runs after a create belong
// to the create's. On calls the interceptor does trace it writes the span the
// interceptor has just made current, so the header is the same.
type actionTrace struct{ tracer interceptor.Tracer }

func (p actionTrace) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	span := p.tracer.SpanFromContext(ctx)
	if span == nil {
		return nil
	}
	data, err := p.tracer.MarshalSpan(span)
	if err != nil || len(data) == 0 {
		return err
	}
	payload, err := converter.GetDefaultDataConverter().ToPayload(data)
	if err != nil {
		return err
	}
	w.Set(p.tracer.Options().HeaderKey, payload)
	return nil
}

// The interceptor reads the header on the worker's side itself.
func (actionTrace) Extract(ctx context.Context, _ workflow.HeaderReader) (context.Context, error) {
	return ctx, nil
}

func (actionTrace) InjectFromWorkflow(workflow.Context, workflow.HeaderWriter) error { return nil }

func (actionTrace) ExtractToWorkflow(ctx workflow.Context, _ workflow.HeaderReader) (workflow.Context, error) {
	return ctx, nil
}
