package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"schedsvc/gen/api"
)

// defaultURL is where `make run` serves the API.
const defaultURL = "http://127.0.0.1:8080"

// A group is a noun of the command line (schedules, runs, cron); its commands are the verbs.
type group struct {
	name, summary string
	commands      []*command
}

// A command is one verb. Adding one (say `schedules trigger`, once the API has it) is an entry
// in its group's list in groups.go and the action its flags function returns.
type command struct {
	group   string
	name    string
	args    string // synopsis of the positional arguments, e.g. "<schedule-id>"
	nargs   int    // how many positional arguments it takes; -1 means one or more
	summary string
	detail  string // the paragraph of its --help, after the synopsis
	// flags declares the command's own flags on fs and returns what runs once they are parsed.
	flags func(fs *flag.FlagSet) action
}

// An action performs a command with its positional arguments.
type action func(ctx context.Context, s *session, args []string) error

// session is what every action works with: the client, set up from the configuration, and
// where its output goes.
type session struct {
	client api.ClientInterface
	output string // "table" or "json"
	stdin  io.Reader
	stdout io.Writer
}

func groupNamed(name string) *group {
	for _, g := range groups {
		if g.name == name {
			return g
		}
	}
	return nil
}

func (g *group) command(name string) *command {
	for _, c := range g.commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (g *group) subcommandNames() string {
	names := make([]string, len(g.commands))
	for i, c := range g.commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

func (c *command) path() string { return c.group + " " + c.name }

func (c *command) synopsis() string {
	if c.args == "" {
		return c.path()
	}
	return c.path() + " " + c.args
}

// connection holds the flags every command takes.
type connection struct {
	url, token, apiKey string
	output             string
	timeout            time.Duration
}

func (o *connection) register(fs *flag.FlagSet) {
	fs.StringVar(&o.url, "url", "", "service base `URL` (default $SCHEDSVC_URL, else "+defaultURL+")")
	fs.StringVar(&o.token, "token", "", "`JWT` sent as Authorization: Bearer (default $SCHEDSVC_TOKEN)")
	fs.StringVar(&o.apiKey, "api-key", "", "API `key` sent as X-API-Key (default $SCHEDSVC_API_KEY)")
	fs.StringVar(&o.output, "o", "table", "output `format`: table, or json (the API's response body as is)")
	fs.DurationVar(&o.timeout, "request-timeout", 30*time.Second, "give up on a request after this long")
}

func (c *command) execute(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("schedctl "+c.path(), flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors are reported by run, as one line
	fs.Usage = func() {}
	act := c.flags(fs)
	own := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { own[f.Name] = true })
	var conn connection
	conn.register(fs)
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.writeHelp(stdout, fs, own)
		return nil
	}
	help := "run 'schedctl " + c.path() + " --help' for its arguments and flags"
	if err != nil {
		return usagef(help, "%s: %v", c.path(), err)
	}
	switch {
	case c.nargs >= 0 && len(positional) != c.nargs:
		return usagef(help, "%s takes %s, got %d argument(s)", c.path(), argCount(c), len(positional))
	case c.nargs < 0 && len(positional) == 0:
		return usagef(help, "%s takes %s", c.path(), c.args)
	}
	if conn.output != "table" && conn.output != "json" {
		return usagef(help, "-o %q: use table or json", conn.output)
	}
	if conn.timeout <= 0 {
		return usagef(help, "--request-timeout %s: give a positive duration such as 30s", conn.timeout)
	}
	client, err := newClient(conn, getenv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, conn.timeout)
	defer cancel()
	err = act(ctx, &session{client: client, output: conn.output, stdin: stdin, stdout: stdout}, positional)
	var u *usageError
	if errors.As(err, &u) && u.hint == "" {
		u.hint = help
	}
	return err
}

func argCount(c *command) string {
	switch c.nargs {
	case 0:
		return "no arguments"
	case 1:
		return "one argument, " + c.args
	default:
		return fmt.Sprintf("%d arguments, %s", c.nargs, c.args)
	}
}

// parseInterspersed parses flags wherever they stand among the positional arguments (the flag
// package stops at the first one), so that `schedules get <id> -o json` works. After "--"
// everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func (c *command) writeHelp(w io.Writer, fs *flag.FlagSet, own map[string]bool) {
	fmt.Fprintf(w, "Usage: schedctl %s [flags]\n\n%s.\n", c.synopsis(), c.summary)
	if c.detail != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.detail))
	}
	// The command's own flags first, then those every command takes.
	mine := flag.NewFlagSet("", flag.ContinueOnError)
	common := flag.NewFlagSet("", flag.ContinueOnError)
	fs.VisitAll(func(f *flag.Flag) {
		if own[f.Name] {
			mine.Var(f.Value, f.Name, f.Usage)
		} else {
			common.Var(f.Value, f.Name, f.Usage)
		}
	})
	if len(own) > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		mine.SetOutput(w)
		mine.PrintDefaults()
	}
	fmt.Fprint(w, "\nFlags of every command:\n")
	common.SetOutput(w)
	common.PrintDefaults()
	fmt.Fprint(w, "\nExit codes: 0 ok, 1 API error, 2 usage, 3 no answer ('schedctl --help' says more).\n")
}

// newClient builds the generated client from the flags and the environment.
func newClient(conn connection, getenv func(string) string) (api.ClientInterface, error) {
	const cfgHelp = "run 'schedctl --help' for the configuration"
	base := conn.url
	if base == "" {
		base = getenv("SCHEDSVC_URL")
	}
	if base == "" {
		base = defaultURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef(cfgHelp, "service URL %q: want http(s)://host[:port]", base)
	}
	token, apiKey := conn.token, conn.apiKey
	if token == "" && apiKey == "" {
		token, apiKey = getenv("SCHEDSVC_TOKEN"), getenv("SCHEDSVC_API_KEY")
	}
	var editor api.RequestEditorFn
	switch {
	case token != "" && apiKey != "":
		return nil, usagef(cfgHelp, "both a token and an API key are set; the service takes one (unset SCHEDSVC_TOKEN or SCHEDSVC_API_KEY, or pass one of --token/--api-key)")
	case token != "":
		editor = header("Authorization", "Bearer "+token)
	case apiKey != "":
		editor = header("X-API-Key", apiKey)
	default:
		return nil, usagef(cfgHelp, "no credentials: set SCHEDSVC_TOKEN (a JWT) or SCHEDSVC_API_KEY (an API key), or pass --token or --api-key")
	}
	return api.NewClient(base, api.WithHTTPClient(&http.Client{}), api.WithRequestEditorFn(editor))
}

func header(name, value string) api.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set(name, value)
		return nil
	}
}

// parseID parses a schedule or run id argument.
func parseID(what, s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.UUID{}, usagef("", "%s %q is not an id (a UUID such as 3f6c2a8e-5b1d-4c7a-9e2f-8d4b1a7c6e05)", what, s)
	}
	return id, nil
}
