// Package store is the one persistence layer: the only package that knows
// sqlc's rows, SQL and the pgx driver. It takes and returns domain types,
// interprets driver errors once (not found, conflict, unavailable, each
// wrapping its cause) and offers transactions. The schedule manager,
// recorder and reconciler reach it through schedules.Store; the HTTP
// layer's idempotency and API-key stores call it directly.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	dbgen "schedsvc/gen/db"
	"schedsvc/schedules"
)

// DB is what a Store runs on: a pool, or a transaction (whose Begin opens
// a savepoint).
type DB interface {
	dbgen.DBTX
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Store runs every query of the service.
type Store struct {
	db DB
	q  *dbgen.Queries
}

var _ schedules.Store = (*Store)(nil)

// New returns a store over db: a *pgxpool.Pool in the binaries, a pgx.Tx
// in tests that roll everything back.
func New(db DB) *Store {
	return &Store{db: db, q: dbgen.New(db)}
}

// InTx runs fn in a transaction; see schedules.Store.
func (s *Store) InTx(ctx context.Context, fn func(schedules.Store) error, afterCommitFailure func()) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return interpret("begin", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after commit
	if err := fn(New(tx)); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		if afterCommitFailure != nil {
			afterCommitFailure()
		}
		return interpret("commit", err)
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	switch db := s.db.(type) {
	case *pgxpool.Pool:
		return interpret("ping", db.Ping(ctx))
	case pgx.Tx:
		return interpret("ping", db.Conn().Ping(ctx))
	}
	_, err := s.db.Exec(ctx, ";")
	return interpret("ping", err)
}

// WithReconcileLock holds the session-scoped reconciler lock on one
// connection while fn runs; see schedules.Store.
func (s *Store) WithReconcileLock(ctx context.Context, fn func() error) (bool, error) {
	q := s.q
	if pool, ok := s.db.(*pgxpool.Pool); ok {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return false, interpret("reconcile: acquire connection", err)
		}
		defer conn.Release()
		q = dbgen.New(conn)
	}
	got, err := q.ReconcileTryLock(ctx)
	if err != nil {
		return false, interpret("reconcile: lock", err)
	}
	if !got {
		return false, nil
	}
	defer q.ReconcileUnlock(context.WithoutCancel(ctx)) //nolint:errcheck // released with the session anyway
	return true, fn()
}

// uniqueViolation is PostgreSQL's SQLSTATE for a taken unique key.
const uniqueViolation = "23505"

// interpret is the one place driver errors get their domain meaning. The
// cause stays wrapped beside the sentinel.
func interpret(op string, err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	var connErr *pgconn.ConnectError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w: %w", op, schedules.ErrNotFound, err)
	case errors.As(err, &pgErr) && pgErr.Code == uniqueViolation:
		return fmt.Errorf("%s: %w: %w", op, schedules.ErrConflict, err)
	case errors.As(err, &connErr), errors.Is(err, puddle.ErrClosedPool), errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		return fmt.Errorf("%s: %w: %w", op, schedules.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
