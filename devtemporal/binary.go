package devtemporal

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"time"
)

// ServerVersion is the pinned Temporal server release. v1.32.2 needs a newer Go than the
// project's; bump it together with the dev tooling, never per machine.
const ServerVersion = "v1.32.0"

const serverPackage = "go.temporal.io/server/cmd/server"

// CacheDir returns the directory that holds build artefacts shared by every checkout on this
// machine: $SCHEDSVC_CACHE, else $XDG_CACHE_HOME/schedsvc, else $HOME/.cache/schedsvc.
func CacheDir(getenv func(string) string) string {
	if dir := getenv("SCHEDSVC_CACHE"); dir != "" {
		return dir
	}
	if dir := getenv("XDG_CACHE_HOME"); dir != "" {
		return filepath.Join(dir, "schedsvc")
	}
	return filepath.Join(getenv("HOME"), ".cache", "schedsvc")
}

// EnsureBinary returns the path of the Temporal server binary for ServerVersion in
// cacheDir/bin, building it with `go install` first when it is missing (several minutes).
// Build output goes to log (nil discards it). Concurrent callers, in this process or others,
// wait for a single build; the binary appears under its final name only when complete.
func EnsureBinary(ctx context.Context, cacheDir string, log io.Writer) (string, error) {
	return ensureGoBinary(ctx, cacheDir, serverPackage, "temporal-server", log)
}

// sqlToolPackage is Temporal's schema tool (temporal-sql-tool), which creates and upgrades the
// server's PostgreSQL schema; its schema files are embedded in it.
const sqlToolPackage = "go.temporal.io/server/cmd/tools/sql"

// EnsureSQLTool is EnsureBinary for Temporal's SQL schema tool of ServerVersion, cached as
// cacheDir/bin/temporal-sql-tool-<version>. PostgreSQL persistence needs it once per machine,
// to build the schema template every server's databases are copied from.
func EnsureSQLTool(ctx context.Context, cacheDir string, log io.Writer) (string, error) {
	return ensureGoBinary(ctx, cacheDir, sqlToolPackage, "temporal-sql-tool", log)
}

// ensureGoBinary returns cacheDir/bin/<name>-<ServerVersion>, building pkg@ServerVersion into
// it first when missing, one build at a time across processes.
func ensureGoBinary(ctx context.Context, cacheDir, pkg, name string, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	binDir := filepath.Join(cacheDir, "bin")
	binary := filepath.Join(binDir, name+"-"+ServerVersion)
	if isExecutable(binary) {
		return binary, nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", fmt.Errorf("create temporal binary cache dir: %w", err)
	}

	lock, err := waitLock(ctx, filepath.Join(binDir, "."+name+"-"+ServerVersion+".lock"))
	if err != nil {
		return "", fmt.Errorf("lock temporal binary cache: %w", err)
	}
	defer lock.Close()
	if isExecutable(binary) { // built by whoever held the lock before us
		return binary, nil
	}

	tmp, err := os.MkdirTemp(binDir, "build-"+name+"-"+ServerVersion+"-")
	if err != nil {
		return "", fmt.Errorf("create temporal build dir: %w", err)
	}
	defer os.RemoveAll(tmp)

	fmt.Fprintf(log, "devtemporal: building %s@%s into %s (takes minutes; done once per machine)\n",
		pkg, ServerVersion, binDir)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "install", pkg+"@"+ServerVersion)
	// Outside any module or workspace, so nothing in the caller's tree influences the build.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "GOWORK=off")
	cmd.Stdout = log
	cmd.Stderr = log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w", pkg, ServerVersion, err)
	}
	if err := os.Rename(filepath.Join(tmp, path.Base(pkg)), binary); err != nil {
		return "", fmt.Errorf("move %s into cache: %w", name, err)
	}
	fmt.Fprintf(log, "devtemporal: built %s in %s\n", binary, time.Since(start).Round(time.Second))
	return binary, nil
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0
}
