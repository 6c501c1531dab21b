package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ensureNamespace registers the namespace unless it exists and waits until it serves calls.
// A freshly registered namespace is unknown to the services until their namespace caches
// refresh, and the frontend may answer health checks before history is ready, so both steps
// retry until ctx ends.
func (s *Server) ensureNamespace(ctx context.Context) error {
	nc, err := client.NewNamespaceClient(s.clientOptions())
	if err != nil {
		return fmt.Errorf("namespace client: %w", err)
	}
	defer nc.Close()
	c, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("dial frontend: %w", err)
	}
	defer c.Close()

	start := time.Now()
	err = s.retry(ctx, func(ctx context.Context) error {
		err := nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        s.opts.Namespace,
			Description:                      "registered by schedsvc/devtemporal",
			WorkflowExecutionRetentionPeriod: durationpb.New(NamespaceRetention),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if errors.As(err, &exists) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("register namespace %q: %w", s.opts.Namespace, err)
	}
	registered := time.Now()

	err = s.retry(ctx, func(ctx context.Context) error { return namespaceUsable(ctx, nc, c, s.opts.Namespace) })
	if err != nil {
		return fmt.Errorf("wait for namespace %q: %w", s.opts.Namespace, err)
	}
	fmt.Fprintf(s.opts.Log, "devtemporal: namespace %q registered in %s, usable after %s more\n",
		s.opts.Namespace, registered.Sub(start).Round(time.Millisecond), time.Since(registered).Round(time.Millisecond))
	return nil
}

// perNamespaceWorkerTaskQueue is where the server's worker service polls for the system
// workflows of each namespace, schedules among them (server v1.32 internals:
// primitives.PerNSWorkerTaskQueue).
const perNamespaceWorkerTaskQueue = "temporal-sys-per-ns-tq"

// namespaceUsable succeeds once the namespace serves what schedules need: the namespace is in
// the frontend's cache, visibility answers a schedule list, history answers for the namespace
// (NotFound for a workflow that does not exist), and the worker service polls the namespace's
// system task queue, without which describing a schedule blocks.
func namespaceUsable(ctx context.Context, nc client.NamespaceClient, c client.Client, namespace string) error {
	if _, err := nc.Describe(ctx, namespace); err != nil {
		return err
	}
	it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 1})
	if err != nil {
		return err
	}
	if it.HasNext() {
		if _, err := it.Next(); err != nil {
			return err
		}
	}
	var notFound *serviceerror.NotFound
	if _, err := c.DescribeWorkflowExecution(ctx, "devtemporal-readiness-probe", ""); !errors.As(err, &notFound) {
		return fmt.Errorf("history not ready: %v", err)
	}
	tq, err := c.DescribeTaskQueue(ctx, perNamespaceWorkerTaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return err
	}
	if len(tq.GetPollers()) == 0 {
		return errors.New("system worker not polling yet")
	}
	return nil
}

// retry calls f every 200 ms until it succeeds, the server exits or ctx ends; each call gets
// at most 2 s.
func (s *Server) retry(ctx context.Context, f func(context.Context) error) error {
	for {
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := f(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("server exited: %v (last error: %w)", s.waitErr, err)
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
