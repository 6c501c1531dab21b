// Command goclient shows the generated Go client (schedsvc/gen/api) used from another module:
// it creates a schedule with only the required fields and lists the caller's schedules.
//
//	SCHEDSVC_URL=http://127.0.0.1:8080 SCHEDSVC_API_KEY=sk_... go run .
//	SCHEDSVC_URL=http://127.0.0.1:8080 SCHEDSVC_TOKEN=<JWT> go run .
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"schedsvc/gen/api"
)

func main() {
	if err := run(context.Background(), os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	baseURL := getenv("SCHEDSVC_URL")
	if baseURL == "" {
		baseURL = "http://127.0.0.1:8080"
	}
	auth, err := credentials(getenv)
	if err != nil {
		return err
	}
	c, err := api.NewClientWithResponses(baseURL,
		api.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}),
		api.WithRequestEditorFn(auth))
	if err != nil {
		return err
	}

	// Required fields only; the service fills in the declared defaults.
	created, err := c.CreateScheduleWithResponse(ctx, nil, api.CreateScheduleJSONRequestBody{
		Name:           "Weekday support digest",
		CronExpression: "0 9 * * MON-FRI",
		TaskQuery:      "Summarise yesterday's support tickets",
	})
	if err != nil {
		return err
	}
	if created.JSON201 == nil {
		// Every error is application/problem+json; the body says which kind.
		return fmt.Errorf("create: %s: %s", created.Status(), created.Body)
	}
	fmt.Println("created", created.JSON201.ScheduleId, "next run at", created.JSON201.NextRunAt)

	pageSize := 10
	list, err := c.ListSchedulesWithResponse(ctx, &api.ListSchedulesParams{PageSize: &pageSize})
	if err != nil {
		return err
	}
	if list.JSON200 == nil {
		return fmt.Errorf("list: %s: %s", list.Status(), list.Body)
	}
	for _, s := range list.JSON200.Schedules {
		fmt.Println(s.Id, s.Name, s.CronExpression, s.Status)
	}
	return nil
}

// credentials returns the request editor that authenticates every call: an API key in
// X-API-Key, or a JWT as a bearer token.
func credentials(getenv func(string) string) (api.RequestEditorFn, error) {
	if key := getenv("SCHEDSVC_API_KEY"); key != "" {
		return func(_ context.Context, req *http.Request) error {
			req.Header.Set("X-API-Key", key)
			return nil
		}, nil
	}
	if token := getenv("SCHEDSVC_TOKEN"); token != "" {
		return func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+token)
			return nil
		}, nil
	}
	return nil, errors.New("set SCHEDSVC_API_KEY or SCHEDSVC_TOKEN")
}
