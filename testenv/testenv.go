// Package testenv gives integration tests their own real dependencies: a
// freshly migrated PostgreSQL database per test run and a local Temporal
// server. Nothing depends on what an earlier run left behind.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"schedsvc/db"
	"schedsvc/devtemporal"
)

// AdminURL is the maintenance database tests create their databases from;
// TEST_PG_ADMIN_URL overrides it.
func AdminURL() string {
	if u := os.Getenv("TEST_PG_ADMIN_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL is the Redis tests use; TEST_REDIS_URL overrides it.
func RedisURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

// Database is a uniquely named, migrated database that Drop removes.
type Database struct {
	Name string
	URL  string
	Pool *pgxpool.Pool
}

// CreateDatabase creates and migrates a database named after prefix and a
// random suffix.
func CreateDatabase(ctx context.Context, prefix string) (*Database, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("%s_%d_%s", prefix, time.Now().Unix(), hex.EncodeToString(b[:]))
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return nil, fmt.Errorf("connect to postgres admin database: %w", err)
	}
	defer admin.Close(ctx)
	if err := dropStale(ctx, admin, prefix); err != nil {
		return nil, err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	cfg, err := pgx.ParseConfig(AdminURL())
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
	d := &Database{Name: name, URL: url}
	d.Pool, err = pgxpool.New(ctx, url)
	if err != nil {
		_ = d.Drop(ctx)
		return nil, err
	}
	if _, err := db.Migrate(ctx, d.Pool); err != nil {
		_ = d.Drop(ctx)
		return nil, err
	}
	return d, nil
}

// staleAfter is the age past which a test database is taken to be left
// behind by a run that was killed before its clean-up.
const staleAfter = 3 * time.Hour

// dropStale removes databases of this prefix that a killed test run left
// behind; the creation time is part of each name.
func dropStale(ctx context.Context, admin *pgx.Conn, prefix string) error {
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix+"_")
	if err != nil {
		return fmt.Errorf("list test databases: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list test databases: %w", err)
	}
	for _, n := range names {
		created, _, ok := strings.Cut(strings.TrimPrefix(n, prefix+"_"), "_")
		unix, err := strconv.ParseInt(created, 10, 64)
		if !ok || err != nil || time.Since(time.Unix(unix, 0)) < staleAfter {
			continue
		}
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop stale test database %s: %w", n, err)
		}
	}
	return nil
}

// Drop closes the pool and removes the database.
func (d *Database) Drop(ctx context.Context) error {
	if d.Pool != nil {
		d.Pool.Close()
	}
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.Name}.Sanitize()+" WITH (FORCE)")
	return err
}

// StartTemporal starts a throwaway Temporal server, building the server
// binary into the shared cache first if it is missing.
func StartTemporal(ctx context.Context, log io.Writer) (*devtemporal.Server, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	bin, err := devtemporal.EnsureBinary(ctx, devtemporal.CacheDir(os.Getenv), log)
	if err != nil {
		return nil, err
	}
	return devtemporal.Start(ctx, devtemporal.Options{Binary: bin, Log: log})
}
