package devtemporal

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"text/template"
)

var (
	//go:embed config.yaml.tmpl
	configTemplateText string
	configTemplate     = template.Must(template.New("config.yaml").
				Funcs(template.FuncMap{"json": jsonString}).
				Parse(configTemplateText))

	//go:embed dynamicconfig.yaml
	dynamicConfig []byte
)

// Files inside the data dir. The databases persist across restarts; the config files are
// rewritten on every start.
const (
	configFileName        = "config.yaml"
	dynamicConfigFileName = "dynamicconfig.yaml"
	defaultDBFileName     = "temporal.db"
	visibilityDBFileName  = "visibility.db"
	lockFileName          = "server.lock"
	portsFileName         = "ports.json"
)

// The server logs at this level; start-up failures are reported with the log's tail, and
// anything below warn drowns the dev stack's own output.
const serverLogLevel = "warn"

// ports are the TCP ports of every listener of a single-process server with all services.
type ports struct {
	FrontendGRPC, FrontendHTTP, FrontendMembership int
	HistoryGRPC, HistoryMembership                 int
	MatchingGRPC, MatchingMembership               int
	WorkerGRPC, WorkerMembership                   int
}

// pickPorts chooses distinct free ports on host. A non-zero frontendGRPC is required to be
// free; the ports in previous (a restart's) are reused where still free, because the SQLite
// membership table remembers the last run's hosts for 20 s and a new host on another port
// has to wait about a minute for the old one to be declared dead before matching routes to it.
// The listeners stay open until every port is chosen; another process can still take a port
// before the server binds it, which Start detects and retries.
//
// With PostgreSQL persistence every port must be below maxSmallintPort: the membership table
// keeps ports as smallint, and the kernel's ephemeral ports (port 0) lie above it, so those are
// then drawn at random below it.
func pickPorts(host string, frontendGRPC int, previous ports, lowPorts bool) (ports, error) {
	p := previous
	if frontendGRPC != 0 {
		p.FrontendGRPC = frontendGRPC
	}
	for i, target := range p.all() {
		if lowPorts && *target >= maxSmallintPort && !(i == 0 && frontendGRPC != 0) {
			*target = 0
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(*target)))
		if err != nil && i == 0 && frontendGRPC != 0 {
			return ports{}, fmt.Errorf("frontend port: %w", err)
		}
		if err != nil || *target == 0 {
			l, err = listenFree(host, lowPorts)
		}
		if err != nil {
			return ports{}, fmt.Errorf("reserve port on %s: %w", host, err)
		}
		defer l.Close()
		*target = l.Addr().(*net.TCPAddr).Port
	}
	return p, nil
}

// maxSmallintPort bounds the ports of a server on PostgreSQL (smallint columns).
const maxSmallintPort = 32768

// listenFree listens on a free port: any the kernel picks, or with lowPorts one drawn at
// random from [lowPortsFrom, maxSmallintPort).
func listenFree(host string, lowPorts bool) (net.Listener, error) {
	if !lowPorts {
		return net.Listen("tcp", net.JoinHostPort(host, "0"))
	}
	const lowPortsFrom = 16384
	var err error
	for range 100 {
		port := lowPortsFrom + rand.IntN(maxSmallintPort-lowPortsFrom)
		var l net.Listener
		if l, err = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port))); err == nil {
			return l, nil
		}
	}
	return nil, err
}

// all lists pointers to every port, the frontend's gRPC port first.
func (p *ports) all() []*int {
	return []*int{
		&p.FrontendGRPC, &p.FrontendHTTP, &p.FrontendMembership,
		&p.HistoryGRPC, &p.HistoryMembership,
		&p.MatchingGRPC, &p.MatchingMembership,
		&p.WorkerGRPC, &p.WorkerMembership,
	}
}

// readPorts returns the ports of the data dir's last run, or zero ports if there was none.
func readPorts(dataDir string) ports {
	var p ports
	b, err := os.ReadFile(filepath.Join(dataDir, portsFileName))
	if err == nil {
		_ = json.Unmarshal(b, &p) // a damaged file only costs the reuse
	}
	return p
}

func writePorts(dataDir string, p ports) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dataDir, portsFileName), b, 0o644); err != nil {
		return fmt.Errorf("write temporal ports: %w", err)
	}
	return nil
}

type configParams struct {
	LogLevel         string
	Host             string
	BroadcastAddress string
	// FrontendAddress and FrontendHTTPAddress are what clients dial: BroadcastAddress:port.
	FrontendAddress     string
	FrontendHTTPAddress string
	DefaultDB           string
	VisibilityDB        string
	DynamicConfigFile   string
	Ports               ports
	PprofPort           int
	HistoryShards       int
	MaxConns            int
	// Postgres is set for PostgreSQL persistence; DefaultDB and VisibilityDB are then
	// database names rather than files.
	Postgres *postgresParams
}

type postgresParams struct {
	Address, User, Password string
}

// storeParams is the persistence part of the config.
type storeParams struct {
	historyShards, maxConns int
	postgres                *pgTarget
	dbs                     pgDatabases
}

// writeConfig writes the server's static and dynamic config into dataDir and returns the
// path of the static one.
func writeConfig(dataDir, host string, p ports, pprofPort int, sp storeParams) (string, error) {
	advertised := broadcastAddress(host)
	params := configParams{
		LogLevel:            serverLogLevel,
		Host:                host,
		BroadcastAddress:    advertised,
		FrontendAddress:     net.JoinHostPort(advertised, strconv.Itoa(p.FrontendGRPC)),
		FrontendHTTPAddress: net.JoinHostPort(advertised, strconv.Itoa(p.FrontendHTTP)),
		DefaultDB:           filepath.Join(dataDir, defaultDBFileName),
		VisibilityDB:        filepath.Join(dataDir, visibilityDBFileName),
		DynamicConfigFile:   filepath.Join(dataDir, dynamicConfigFileName),
		Ports:               p,
		PprofPort:           pprofPort,
		HistoryShards:       sp.historyShards,
		MaxConns:            sp.maxConns,
	}
	if sp.postgres != nil {
		params.Postgres = &postgresParams{Address: sp.postgres.address(), User: sp.postgres.user, Password: sp.postgres.password}
		params.DefaultDB, params.VisibilityDB = sp.dbs.History, sp.dbs.Visibility
	}
	if err := os.WriteFile(params.DynamicConfigFile, dynamicConfig, 0o644); err != nil {
		return "", fmt.Errorf("write temporal dynamic config: %w", err)
	}
	path := filepath.Join(dataDir, configFileName)
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("write temporal config: %w", err)
	}
	if err := configTemplate.Execute(f, params); err != nil {
		f.Close()
		return "", fmt.Errorf("render temporal config: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write temporal config: %w", err)
	}
	return path, nil
}

// broadcastAddress is the address services advertise to each other and to clients; a wildcard
// bind address cannot be dialled, so it becomes loopback.
func broadcastAddress(host string) string {
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return host
}

// jsonString quotes s for YAML: a JSON string is a valid YAML double-quoted scalar.
func jsonString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}
