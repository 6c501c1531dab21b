package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// devAPIKey issues the development API key (user dev-user, tenant
// dev-tenant, default tier) with `gateway apikey create`, after revoking
// the one the previous run issued, so one development key is valid at a
// time. The key is kept in keyFile for the developer's convenience.
func devAPIKey(ctx context.Context, gateway string, env []string, keyFile string, log io.Writer) (string, error) {
	if old, err := os.ReadFile(keyFile); err == nil {
		if prefix, ok := apiKeyPrefix(strings.TrimSpace(string(old))); ok {
			var out bytes.Buffer
			if err := runToCompletion(ctx, gateway, []string{"apikey", "revoke", prefix}, env, &out); err != nil {
				fmt.Fprintf(log, "could not revoke the previous development API key %s: %v: %s\n", prefix, err, strings.TrimSpace(out.String()))
			}
		}
	}
	var out bytes.Buffer
	err := runToCompletion(ctx, gateway,
		[]string{"apikey", "create", "-user", "dev-user", "-tenant", "dev-tenant", "-name", "devstack"}, env, &out)
	if err != nil {
		return "", fmt.Errorf("create development API key: %w: %s", err, strings.TrimSpace(out.String()))
	}
	key := ""
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "sk_") {
			key = line
		}
	}
	if key == "" {
		return "", errors.New("gateway apikey create printed no key")
	}
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write development API key: %w", err)
	}
	return key, nil
}

// apiKeyPrefix returns the visible part of an API key, sk_ and eight
// characters.
func apiKeyPrefix(key string) (string, bool) {
	const n = len("sk_") + 8
	if len(key) <= n || !strings.HasPrefix(key, "sk_") || key[n] != '_' {
		return "", false
	}
	return key[:n], true
}
