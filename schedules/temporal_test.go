package schedules

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A Temporal that sheds load, is down or too slow is "unavailable" (503 with Retry-After),
// whether the error arrives as a gRPC status or as the SDK's own type; anything else is not.
func TestTemporalErrUnavailable(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		serviceerror.NewResourceExhausted(0, "namespace RPS limit"),
		fmt.Errorf("wrapped: %w", serviceerror.NewResourceExhausted(0, "busy")),
		serviceerror.NewUnavailable("down"),
		serviceerror.NewDeadlineExceeded("slow"),
		status.Error(codes.ResourceExhausted, "busy"),
		status.Error(codes.Unavailable, "down"),
	} {
		require.ErrorIs(t, temporalErr("create", err), ErrUnavailable, "%T %v", err, err)
	}
	for _, err := range []error{
		serviceerror.NewInvalidArgument("bad spec"),
		serviceerror.NewNotFound("gone"),
		errors.New("other"),
	} {
		require.NotErrorIs(t, temporalErr("create", err), ErrUnavailable, "%T %v", err, err)
	}
}
