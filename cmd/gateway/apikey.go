package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"schedsvc/cmd/internal/connect"
	"schedsvc/config"
	"schedsvc/schedules"
	"schedsvc/server"
	"schedsvc/store"
)

const apikeyUsage = `usage:
  gateway apikey create -user USER -tenant TENANT [-tier TIER] [-name NAME]
  gateway apikey revoke PREFIX
  gateway apikey list -tenant TENANT`

// apikey creates, revokes and lists API keys. A new key is printed once and
// never again: only its hash is stored.
func apikey(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(apikeyUsage)
	}
	pool, err := connect.Postgres(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	apiKeys := server.NewAPIKeyStore(store.New(pool), slog.New(slog.NewTextHandler(io.Discard, nil)))
	fs := flag.NewFlagSet("apikey "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	switch args[0] {
	case "create":
		user := fs.String("user", "", "user id the key acts for")
		tenant := fs.String("tenant", "", "tenant id the key acts for")
		tier := fs.String("tier", cfg.RateLimit.DefaultTier, "rate-limit tier")
		name := fs.String("name", "", "a note saying what the key is for")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *user == "" || *tenant == "" {
			return errors.New(apikeyUsage)
		}
		if _, ok := cfg.RateLimit.Tiers[*tier]; !ok {
			tiers := make([]string, 0, len(cfg.RateLimit.Tiers))
			for t := range cfg.RateLimit.Tiers {
				tiers = append(tiers, t)
			}
			slices.Sort(tiers)
			return fmt.Errorf("tier %q is not configured (RATE_LIMIT_TIERS has %s)", *tier, strings.Join(tiers, ", "))
		}
		key, k, err := apiKeys.Create(ctx, schedules.Owner{UserID: *user, TenantID: *tenant}, *tier, *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API key for user %s, tenant %s, tier %s (shown once; store it now):\n%s\n", k.Owner.UserID, k.Owner.TenantID, k.Tier, key)
		fmt.Fprintf(stdout, "prefix %s (use it to revoke the key)\n", k.Prefix)
		return nil
	case "revoke":
		if len(args) != 2 {
			return errors.New(apikeyUsage)
		}
		k, err := apiKeys.Revoke(ctx, args[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s (user %s, tenant %s) at %s\n", k.Prefix, k.Owner.UserID, k.Owner.TenantID, k.RevokedAt.UTC().Format(time.RFC3339))
		return nil
	case "list":
		tenant := fs.String("tenant", "", "tenant id")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *tenant == "" {
			return errors.New(apikeyUsage)
		}
		keys, err := apiKeys.List(ctx, *tenant)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-12s %-16s %-10s %-20s %-20s %-20s %s\n", "PREFIX", "USER", "TIER", "CREATED", "LAST USED", "REVOKED", "NAME")
		for _, k := range keys {
			fmt.Fprintf(stdout, "%-12s %-16s %-10s %-20s %-20s %-20s %s\n", k.Prefix, k.Owner.UserID, k.Tier,
				k.CreatedAt.UTC().Format(time.RFC3339), timeOrDash(k.LastUsedAt), timeOrDash(k.RevokedAt), k.Name)
		}
		return nil
	default:
		return errors.New(apikeyUsage)
	}
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
