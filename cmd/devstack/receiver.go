package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"schedsvc/notify"
	"schedsvc/signing"
)

// The development notification receiver takes the completion notifications of schedules
// created in the dev stack: it checks each event's signature as a real receiver must
// (signing.VerifySignature with NOTIFY_SIGNING_SECRET) and logs it. It listens on a free
// loopback port that NOTIFY_ALLOWED_HOSTS admits by the name localhost, since the SSRF
// policy refuses loopback addresses otherwise.

// devReceiverHost is the name the receiver's URL uses and the allowlist admits.
const devReceiverHost = "localhost"

func devReceiverHandler(secret []byte, log io.Writer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /notify", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := signing.VerifySignature(secret, r.Header.Get(signing.TimestampHeader), r.Header.Get(signing.SignatureHeader),
			body, time.Now(), 5*time.Minute); err != nil {
			fmt.Fprintf(log, "notification refused: %v\n", err)
			http.Error(w, "bad signature: "+err.Error(), http.StatusUnauthorized)
			return
		}
		var ev notify.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "the body must be a notification event: "+err.Error(), http.StatusBadRequest)
			return
		}
		line := fmt.Sprintf("notification %s (event %s, attempt %s) for schedule %s %q", ev.Kind, ev.ID,
			r.Header.Get(signing.AttemptHeader), ev.ScheduleID, ev.ScheduleName)
		if ev.Run != nil {
			line += fmt.Sprintf(", run %s", ev.Run.WorkflowID)
		}
		if ev.Pause != nil {
			line += fmt.Sprintf(", paused by %s: %s", ev.Pause.PausedBy, ev.Pause.Reason)
		}
		fmt.Fprintln(log, line+"; signature verified")
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// startDevReceiver serves devReceiverHandler on a free loopback port and returns the URL
// schedules should notify.
func startDevReceiver(secret []byte, log io.Writer) (*http.Server, string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("development notification receiver: %w", err)
	}
	srv := &http.Server{Handler: devReceiverHandler(secret, log), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(log, "development notification receiver stopped: %v\n", err)
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	return srv, "http://" + net.JoinHostPort(devReceiverHost, strconv.Itoa(port)) + "/notify", nil
}
