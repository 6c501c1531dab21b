// Package db holds the schema migrations, embedded so every binary and test
// applies exactly the files sqlc generated the queries from.
package db

import "embed"

//go:embed migrations/*.sql
var Migrations embed.FS
