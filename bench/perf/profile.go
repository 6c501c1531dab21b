package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"schedsvc/bench/internal/stack"
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
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	if err := stack.FetchProfile(ctx, addr, d, base+".pprof"); err != nil {
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
