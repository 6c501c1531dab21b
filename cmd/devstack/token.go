package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// devSecret returns the HS256 secret stored at path, creating it on first use, so tokens
// printed by one run keep working in the next.
func devSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if secret := strings.TrimSpace(string(b)); len(secret) >= 32 {
			return secret, nil
		}
		return "", fmt.Errorf("%s holds a secret shorter than 32 bytes; delete it to get a new one", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read dev JWT secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write dev JWT secret: %w", err)
	}
	return secret, nil
}

// devToken signs a development JWT for the fixed dev user, valid for 30 days from now.
func devToken(secret string, now time.Time) (string, error) {
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub":       "dev-user",
		"tenant_id": "dev-tenant",
		"iat":       now.Unix(),
		"exp":       now.Add(30 * 24 * time.Hour).Unix(),
	}).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("sign dev JWT: %w", err)
	}
	return token, nil
}
