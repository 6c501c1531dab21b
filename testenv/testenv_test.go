package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestCreateDatabaseSweepsStaleOnes: a database left by a killed run of the
// same prefix is dropped once it is old; a recent one is left alone.
func TestCreateDatabaseSweepsStaleOnes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, AdminURL())
	require.NoError(t, err)
	defer admin.Close(ctx)
	const prefix = "schedsvc_testenv_sweep"
	stale := fmt.Sprintf("%s_%d_deadbeef", prefix, time.Now().Add(-4*time.Hour).Unix())
	recent := fmt.Sprintf("%s_%d_cafebabe", prefix, time.Now().Add(-time.Minute).Unix())
	for _, n := range []string{stale, recent} {
		_, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{n}.Sanitize())
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{recent}.Sanitize())
	})

	db, err := CreateDatabase(ctx, prefix)
	require.NoError(t, err)
	require.NoError(t, db.Drop(ctx))

	exists := func(n string) bool {
		var found bool
		require.NoError(t, admin.QueryRow(ctx, "SELECT exists(SELECT 1 FROM pg_database WHERE datname = $1)", n).Scan(&found))
		return found
	}
	require.False(t, exists(stale), "the stale database is dropped")
	require.True(t, exists(recent), "a recent one may belong to a run in progress")
	require.False(t, exists(db.Name), "Drop removes the database")
}
