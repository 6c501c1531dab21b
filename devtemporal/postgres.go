package devtemporal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Persistence is where a server keeps its state.
type Persistence string

const (
	// SQLite keeps the state in files in the data dir, behind one connection: nothing to set
	// up, but every persistence write of the server takes its turn.
	SQLite Persistence = "sqlite"
	// PostgreSQL keeps the state in two databases (history and visibility) on the machine's
	// PostgreSQL, copied from a schema template built once per machine by Temporal's own
	// schema tool. A temporary server's databases are dropped when it stops.
	PostgreSQL Persistence = "postgresql"
)

// ParsePersistence reads a Persistence by name ("sqlite", "postgresql" or "postgres");
// empty is SQLite.
func ParsePersistence(s string) (Persistence, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "sqlite":
		return SQLite, nil
	case "postgresql", "postgres":
		return PostgreSQL, nil
	}
	return "", fmt.Errorf("unknown temporal persistence %q: use sqlite or postgresql", s)
}

// DefaultPostgresAdminURL is the machine's PostgreSQL as the tests and the dev stack reach it.
const DefaultPostgresAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Defaults per persistence. SQLite allows one writer, so more connections only queue inside
// the server; PostgreSQL takes writes on several connections at once, and more shards let the
// history service work on several executions' writes in parallel. Each of the server's four
// services opens its own pool per datastore, so one server may hold 4 x 2 x MaxConns
// connections: 8 keeps it at 64, within PostgreSQL's default max_connections of 100.
const (
	defaultSQLiteShards   = 1
	defaultPostgresShards = 4
	defaultPostgresConns  = 8
)

// Database names. A temporary server's names carry their creation time so that a later start
// can drop what a killed process left behind; a persistent data dir's names derive from its
// path, so a restart finds its databases again.
const (
	dbPrefix        = "devtemporal"
	tempDBMarker    = "tmp"
	templateMarker  = "template"
	historySuffix   = "_h"
	visibilitySuff  = "_v"
	staleTempDBsAge = 6 * time.Hour
)

// pgTarget is how the server and the schema tool reach PostgreSQL.
type pgTarget struct {
	adminURL string
	host     string
	port     int
	user     string
	password string
}

func parsePGTarget(adminURL string) (pgTarget, error) {
	cfg, err := pgx.ParseConfig(adminURL)
	if err != nil {
		return pgTarget{}, fmt.Errorf("postgres admin url: %w", err)
	}
	return pgTarget{adminURL: adminURL, host: cfg.Host, port: int(cfg.Port), user: cfg.User, password: cfg.Password}, nil
}

func (t pgTarget) address() string { return t.host + ":" + strconv.Itoa(t.port) }

// pgDatabases are the two databases of one server.
type pgDatabases struct {
	History, Visibility string
}

// templateDatabases are the schema templates of ServerVersion.
func templateDatabases() pgDatabases {
	base := dbPrefix + "_" + templateMarker + "_" + strings.NewReplacer(".", "_", "-", "_").Replace(ServerVersion)
	return pgDatabases{History: base + historySuffix, Visibility: base + visibilitySuff}
}

// tempDatabases are fresh names for a temporary server.
func tempDatabases(now time.Time) pgDatabases {
	var b [5]byte
	_, _ = rand.Read(b[:])
	base := fmt.Sprintf("%s_%s_%d_%s", dbPrefix, tempDBMarker, now.Unix(), hex.EncodeToString(b[:]))
	return pgDatabases{History: base + historySuffix, Visibility: base + visibilitySuff}
}

// dataDirDatabases are the stable names of a persistent data dir.
func dataDirDatabases(dataDir string) pgDatabases {
	sum := sha256.Sum256([]byte(dataDir))
	base := fmt.Sprintf("%s_dir_%s", dbPrefix, hex.EncodeToString(sum[:6]))
	return pgDatabases{History: base + historySuffix, Visibility: base + visibilitySuff}
}

// preparePostgres makes sure the server's databases exist: copied from the schema template
// (built first if this machine has none) when missing.
func (s *Server) preparePostgres(ctx context.Context) error {
	t, err := parsePGTarget(s.opts.PostgresAdminURL)
	if err != nil {
		return err
	}
	s.pg = t
	admin, err := pgx.Connect(ctx, t.adminURL)
	if err != nil {
		return fmt.Errorf("connect to postgres admin database: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))

	if s.tempDir {
		dropStaleTempDatabases(ctx, admin, time.Now())
		s.dbs = tempDatabases(time.Now())
	} else {
		s.dbs = dataDirDatabases(s.opts.DataDir)
	}
	tmpl := templateDatabases()
	if err := s.ensureTemplate(ctx, admin, tmpl); err != nil {
		return err
	}
	for _, pair := range [][2]string{{s.dbs.History, tmpl.History}, {s.dbs.Visibility, tmpl.Visibility}} {
		created, err := createDatabase(ctx, admin, pair[0], pair[1])
		if err != nil {
			return err
		}
		if created && s.tempDir {
			s.dropDBs = true
		}
		if created {
			if err := s.adoptSchemaVersion(ctx, pair[0]); err != nil {
				return err
			}
		}
	}
	return nil
}

// adoptSchemaVersion renames the schema version row of a database copied from a template:
// the server reads its schema version by database name, and the copy still carries the name
// the template was built under.
func (s *Server) adoptSchemaVersion(ctx context.Context, db string) error {
	cfg, err := pgx.ParseConfig(s.pg.adminURL)
	if err != nil {
		return err
	}
	cfg.Database = db
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", db, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "UPDATE schema_version SET db_name = current_database()"); err != nil {
		return fmt.Errorf("adopt schema version in %s: %w", db, err)
	}
	return nil
}

// ensureTemplate builds the schema templates unless they exist. Each template is built under a
// scratch name and renamed when complete, so a template that exists is whole; of two processes
// building at once, the second rename fails and its copy is dropped.
func (s *Server) ensureTemplate(ctx context.Context, admin *pgx.Conn, tmpl pgDatabases) error {
	for _, kind := range []struct{ name, schema string }{
		{tmpl.History, "postgresql/v12/temporal"},
		{tmpl.Visibility, "postgresql/v12/visibility"},
	} {
		exists, err := databaseExists(ctx, admin, kind.name)
		if err != nil || exists {
			return err
		}
		if s.opts.SQLTool == "" {
			if s.opts.SQLTool, err = EnsureSQLTool(ctx, CacheDir(os.Getenv), s.opts.Log); err != nil {
				return err
			}
		}
		var b [4]byte
		_, _ = rand.Read(b[:])
		scratch := fmt.Sprintf("%s_build_%s", kind.name, hex.EncodeToString(b[:]))
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{scratch}.Sanitize()); err != nil {
			return fmt.Errorf("create %s: %w", scratch, err)
		}
		fmt.Fprintf(s.opts.Log, "devtemporal: building the PostgreSQL schema template %s (once per machine)\n", kind.name)
		err = s.runSQLTool(ctx, scratch, "setup-schema", "-v", "0.0")
		if err == nil {
			err = s.runSQLTool(ctx, scratch, "update-schema", "--schema-name", kind.schema)
		}
		if err == nil {
			_, err = admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{scratch}.Sanitize()+" RENAME TO "+pgx.Identifier{kind.name}.Sanitize())
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: another process won
				err = nil
			} else if err == nil {
				continue
			}
		}
		_, dropErr := admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+pgx.Identifier{scratch}.Sanitize()+" WITH (FORCE)")
		if err != nil {
			return errors.Join(fmt.Errorf("build schema template %s: %w", kind.name, err), dropErr)
		}
	}
	return nil
}

// runSQLTool runs Temporal's schema tool against db.
func (s *Server) runSQLTool(ctx context.Context, db string, args ...string) error {
	base := []string{"--plugin", "postgres12", "--ep", s.pg.host, "-p", strconv.Itoa(s.pg.port),
		"-u", s.pg.user, "--db", db}
	cmd := exec.CommandContext(ctx, s.opts.SQLTool, append(base, args...)...)
	// The password by environment, so that it stays out of process listings.
	cmd.Env = append(os.Environ(), "SQL_PASSWORD="+s.pg.password)
	var out strings.Builder
	cmd.Stdout = io.MultiWriter(&out, s.opts.Log)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("temporal-sql-tool %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return nil
}

func databaseExists(ctx context.Context, admin *pgx.Conn, name string) (bool, error) {
	var exists bool
	err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("look up database %s: %w", name, err)
	}
	return exists, nil
}

// createDatabase copies template into name unless name exists; it reports whether it created it.
func createDatabase(ctx context.Context, admin *pgx.Conn, name, template string) (bool, error) {
	exists, err := databaseExists(ctx, admin, name)
	if err != nil || exists {
		return false, err
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{template}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // a concurrent start of the same data dir
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create database %s from %s: %w", name, template, err)
	}
	return true, nil
}

// dropPostgres removes a temporary server's databases once the server has stopped.
func (s *Server) dropPostgres() error {
	if !s.dropDBs {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, s.pg.adminURL)
	if err != nil {
		return fmt.Errorf("drop temporal databases: %w", err)
	}
	defer admin.Close(ctx)
	var errs []error
	for _, name := range []string{s.dbs.History, s.dbs.Visibility} {
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			errs = append(errs, fmt.Errorf("drop temporal database %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// dropStaleTempDatabases drops temporary servers' databases older than staleTempDBsAge: what
// processes killed before Stop left behind. Failures only leave them for the next start.
func dropStaleTempDatabases(ctx context.Context, admin *pgx.Conn, now time.Time) {
	prefix := dbPrefix + "_" + tempDBMarker + "_"
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, n := range names {
		created, _, ok := strings.Cut(strings.TrimPrefix(n, prefix), "_")
		unix, err := strconv.ParseInt(created, 10, 64)
		if !ok || err != nil || now.Sub(time.Unix(unix, 0)) < staleTempDBsAge {
			continue
		}
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)")
	}
}
