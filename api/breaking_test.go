package api_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// releasedDir keeps every released version of the spec as <version>.yaml; the newest is the one
// the current spec must stay compatible with. Add the spec there when a version is released.
const releasedDir = "released"

// latestReleased returns the path and version of the newest released spec.
func latestReleased(t *testing.T) (path, version string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(releasedDir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "api/released holds the last released spec")
	for _, f := range files {
		v := strings.TrimSuffix(filepath.Base(f), ".yaml")
		parseVersion(t, v)
		if version == "" || compareVersions(t, v, version) > 0 {
			path, version = f, v
		}
	}
	return path, version
}

// oasdiffBreaking runs the pinned oasdiff (tools/oasdiff/go.mod) and returns its report and
// whether it found a breaking change (level ERR). allOf branches are merged first, so that
// wrapping a $ref in allOf to give it a description or default is not mistaken for a change.
func oasdiffBreaking(t *testing.T, base, revision string) (report string, breaking bool) {
	t.Helper()
	cmd := exec.Command("go", "tool", "-modfile=../tools/oasdiff/go.mod", "oasdiff", "breaking",
		base, revision, "--flatten-allof", "--fail-on", "ERR", "--format", "text")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errorsAs(err, &exit) {
		t.Fatalf("run oasdiff: %v\n%s", err, out.String())
	}
	return out.String(), err != nil
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// compatible is the CI rule: a breaking change against the last release is allowed only with
// a new major version in info.version.
func compatible(t *testing.T, releasedPath, releasedVersion, specPath string) error {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(specPath)
	require.NoError(t, err)
	current := doc.Info.Version
	require.GreaterOrEqual(t, compareVersions(t, current, releasedVersion), 0,
		"info.version %s is older than the released %s", current, releasedVersion)
	report, breaking := oasdiffBreaking(t, releasedPath, specPath)
	if breaking && parseVersion(t, current)[0] == parseVersion(t, releasedVersion)[0] {
		return fmt.Errorf("breaking change against released %s without a new major version (info.version is %s):\n%s",
			releasedVersion, current, report)
	}
	return nil
}

func TestNoBreakingChangeSinceRelease(t *testing.T) {
	released, version := latestReleased(t)
	require.NoError(t, compatible(t, released, version, specPath))
}

// TestBreakingChangeFailsTheCheck proves the check can fail: the current spec with a new
// required request field and an operation removed is refused, and passes only once
// info.version has a new major version.
func TestBreakingChangeFailsTheCheck(t *testing.T) {
	released, version := latestReleased(t)
	spec, err := os.ReadFile(specPath)
	require.NoError(t, err)
	s := string(spec)

	edit := func(old, new string) {
		t.Helper()
		require.Equal(t, 1, strings.Count(s, old), "deliberate edit anchor %q", old)
		s = strings.Replace(s, old, new, 1)
	}
	// The check is about the released major version: start from the spec as if it still had
	// the released version (the current one may already be a new major).
	current, err := openapi3.NewLoader().LoadFromFile(specPath)
	require.NoError(t, err)
	edit("  version: "+current.Info.Version+"\n", "  version: "+version+"\n")
	// A create request without the new field, valid until now, is refused.
	edit("      required: [name, cron_expression, task_query]\n", "      required: [name, cron_expression, task_query, owner_email]\n")
	edit("      properties:\n        name:\n          type: string\n          minLength: 1\n          maxLength: 200\n          description: Display name, 1–200 characters. Need not be unique.\n",
		"      properties:\n        owner_email:\n          type: string\n          description: Who to tell.\n        name:\n          type: string\n          minLength: 1\n          maxLength: 200\n          description: Display name, 1–200 characters. Need not be unique.\n")
	broken := filepath.Join(t.TempDir(), "openapi.yaml")
	require.NoError(t, os.WriteFile(broken, []byte(s), 0o600))

	report, breaking := oasdiffBreaking(t, released, broken)
	require.True(t, breaking, "oasdiff must report the new required field:\n%s", report)
	require.Contains(t, report, "owner_email")
	err = compatible(t, released, version, broken)
	require.ErrorContains(t, err, "without a new major version")

	next := fmt.Sprintf("%d.0.0", parseVersion(t, version)[0]+1)
	edit("  version: "+version+"\n", "  version: "+next+"\n")
	broken = filepath.Join(t.TempDir(), "openapi-next-major.yaml") // kin-openapi caches files by path
	require.NoError(t, os.WriteFile(broken, []byte(s), 0o600))
	require.NoError(t, compatible(t, released, version, broken), "a new major version allows the breaking change")
}

// parseVersion splits MAJOR.MINOR.PATCH; anything else fails the test.
func parseVersion(t *testing.T, v string) [3]int {
	t.Helper()
	var out [3]int
	n, err := fmt.Sscanf(v, "%d.%d.%d", &out[0], &out[1], &out[2])
	require.True(t, err == nil && n == 3 && fmt.Sprintf("%d.%d.%d", out[0], out[1], out[2]) == v, "version %q is not MAJOR.MINOR.PATCH", v)
	return out
}

func compareVersions(t *testing.T, a, b string) int {
	t.Helper()
	pa, pb := parseVersion(t, a), parseVersion(t, b)
	for i := range pa {
		if pa[i] != pb[i] {
			return pa[i] - pb[i]
		}
	}
	return 0
}
