package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// cpuProfile, when -profile is set, fetches a CPU profile of d from a process's DEBUG_ADDR
// (Go's /debug/pprof/profile) into <profile>/<name>.pprof and writes its heaviest functions
// (`go tool pprof -top`) beside it as <name>.txt. It returns at once; wait blocks until both
// files are written. Without -profile it does nothing.
func (b *bench) cpuProfile(ctx context.Context, addr, name string, d time.Duration) (wait func()) {
	if b.o.profileDir == "" || addr == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := writeProfile(ctx, addr, d, filepath.Join(b.o.profileDir, name)); err != nil {
			fmt.Fprintf(b.say, "  profile %s: %v\n", name, err)
			return
		}
		fmt.Fprintf(b.say, "  profile %s: %s.pprof, top functions in %s.txt\n", name,
			filepath.Join(b.o.profileDir, name), filepath.Join(b.o.profileDir, name))
	}()
	return func() { <-done }
}

func writeProfile(ctx context.Context, addr string, d time.Duration, base string) error {
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return err
	}
	secs := max(1, int(d.Seconds()))
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs)
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(base + ".pprof")
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Cumulative and flat views of the same profile: where the time went.
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=40", base+".pprof").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go tool pprof: %v: %s", err, top)
	}
	flat, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=25", base+".pprof").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go tool pprof: %v: %s", err, flat)
	}
	return os.WriteFile(base+".txt", append(append(top, "\n--- flat ---\n"...), flat...), 0o644)
}
