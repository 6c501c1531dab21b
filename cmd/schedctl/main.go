// Command schedctl is the schedule service's command-line client, built on the generated Go
// client (gen/api): schedules, their runs and cron previews, as tables for people or as the
// API's own JSON for scripts. `schedctl --help` lists the commands, the configuration and the
// exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}

// run executes one command line. What the command shows goes to stdout; a failure is written to
// stderr as one line and returned, and exitCode turns it into the process's exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args[1:], getenv, stdin, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "schedctl:", oneLine(err.Error()))
		var u *usageError
		if errors.As(err, &u) && u.hint != "" {
			fmt.Fprintln(stderr, u.hint)
		}
	}
	return err
}

// dispatch finds the command the arguments name and runs it.
func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("run 'schedctl --help' for the commands", "no command given")
	}
	switch args[0] {
	case "-h", "-help", "--help":
		writeHelp(stdout)
		return nil
	case "help":
		// `schedctl help schedules create` is `schedctl schedules create --help`.
		if len(args) == 1 {
			writeHelp(stdout)
			return nil
		}
		return dispatch(ctx, append(args[1:], "--help"), getenv, stdin, stdout)
	}
	group := groupNamed(args[0])
	if group == nil {
		return usagef("run 'schedctl --help' for the commands", "unknown command %q", args[0])
	}
	if len(args) == 1 {
		return usagef("run 'schedctl "+group.name+" --help' for its commands", "%s needs a subcommand: %s", group.name, group.subcommandNames())
	}
	switch args[1] {
	case "-h", "-help", "--help":
		writeGroupHelp(stdout, group)
		return nil
	}
	cmd := group.command(args[1])
	if cmd == nil {
		return usagef("run 'schedctl "+group.name+" --help' for its commands", "unknown command %q; %s takes %s",
			group.name+" "+args[1], group.name, group.subcommandNames())
	}
	return cmd.execute(ctx, args[2:], getenv, stdin, stdout)
}

// oneLine folds an error's text onto one line, so that every failure is one line on stderr.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func writeHelp(w io.Writer) {
	fmt.Fprint(w, `schedctl: the schedule service from the command line.

Usage:
  schedctl <group> <command> [arguments] [flags]
  schedctl help <group> <command>        (the same as: schedctl <group> <command> --help)

Commands:
`)
	for _, g := range groups {
		for _, c := range g.commands {
			fmt.Fprintf(w, "  %-36s %s\n", c.synopsis(), c.summary)
		}
	}
	fmt.Fprint(w, `
Configuration (flags of every command override the environment):
  SCHEDSVC_URL      --url        the service's base URL (default `+defaultURL+`)
  SCHEDSVC_TOKEN    --token      a JWT, sent as Authorization: Bearer <JWT>
  SCHEDSVC_API_KEY  --api-key    an API key (sk_...), sent as X-API-Key
  Give exactly one of the token and the API key. A credential given as a flag replaces both
  of the environment's.

Output:
  -o table (default)   tables and fields for people
  -o json              the API's JSON response body exactly as the service sent it

Flags follow the command, before, between or after its arguments
(schedctl schedules get <id> -o json); "--" ends them.

Exit codes:
  0  success
  1  the service answered with an error (the problem is printed as one line on stderr),
     or with something that is not the API's answer
  2  usage: unknown command or flag, bad argument, missing or conflicting configuration
  3  no answer: the service could not be reached, or the request timed out
`)
}

func writeGroupHelp(w io.Writer, g *group) {
	fmt.Fprintf(w, "schedctl %s: %s\n\nCommands:\n", g.name, g.summary)
	for _, c := range g.commands {
		fmt.Fprintf(w, "  %-36s %s\n", c.synopsis(), c.summary)
	}
	fmt.Fprintf(w, "\nRun 'schedctl %s <command> --help' for a command's flags; 'schedctl --help' for the\nconfiguration and the exit codes.\n", g.name)
}
