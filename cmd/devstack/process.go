package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// stopTimeout is how long a child gets between SIGTERM and SIGKILL; the gateway's own
// graceful shutdown (SHUTDOWN_TIMEOUT) defaults to 20 s.
const stopTimeout = 25 * time.Second

// console serialises the output of devstack and its children onto one writer, each line
// prefixed with the name of the process that wrote it.
type console struct {
	mu  sync.Mutex
	out io.Writer
}

func newConsole(out io.Writer) *console { return &console{out: out} }

// prefixed returns a writer that prints complete lines as "[name] line".
func (c *console) prefixed(name string) io.Writer {
	return &lineWriter{console: c, prefix: []byte(fmt.Sprintf("[%s] ", name))}
}

type lineWriter struct {
	console *console
	prefix  []byte
	mu      sync.Mutex
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := append(append([]byte{}, w.prefix...), w.partial[:i+1]...)
		w.partial = w.partial[i+1:]
		w.console.mu.Lock()
		_, err := w.console.out.Write(line)
		w.console.mu.Unlock()
		if err != nil {
			return len(p), err
		}
	}
}

// configureChild puts cmd in its own process group, so a terminal's Ctrl-C reaches only
// devstack, which stops the children in order, and makes the kernel stop it if devstack dies.
func configureChild(cmd *exec.Cmd, env []string, out io.Writer) {
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// runToCompletion runs a one-shot command and returns an error unless it exits 0.
func runToCompletion(ctx context.Context, path string, args, env []string, out io.Writer) error {
	cmd := exec.CommandContext(ctx, path, args...)
	configureChild(cmd, env, out)
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = stopTimeout
	return cmd.Run()
}

// processGroup holds the long-running children in start order.
type processGroup struct {
	children []*child
	exited   chan struct{} // closed when the first child exits
	once     sync.Once
}

type child struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	stopped bool // set before Stop signals it, so its exit is not reported as a failure
}

func (g *processGroup) start(name, path string, env []string, out io.Writer) error {
	if g.exited == nil {
		g.exited = make(chan struct{})
	}
	cmd := exec.Command(path)
	configureChild(cmd, env, out)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	g.children = append(g.children, c)
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
		g.once.Do(func() { close(g.exited) })
	}()
	return nil
}

// firstExit is closed as soon as any child exits.
func (g *processGroup) firstExit() <-chan struct{} { return g.exited }

// exitError describes the children that exited without being stopped, or nil.
func (g *processGroup) exitError() error {
	var errs []error
	for _, c := range g.children {
		select {
		case <-c.done:
			if !c.stopped {
				errs = append(errs, fmt.Errorf("%s exited: %v", c.name, exitStatus(c.waitErr)))
			}
		default:
		}
	}
	return errors.Join(errs...)
}

// stopAll stops the children in reverse start order: SIGTERM, then SIGKILL after stopTimeout.
func (g *processGroup) stopAll(log io.Writer) {
	for i := len(g.children) - 1; i >= 0; i-- {
		c := g.children[i]
		select {
		case <-c.done:
			continue
		default:
		}
		fmt.Fprintf(log, "stopping %s\n", c.name)
		c.stopped = true
		pgid := c.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(stopTimeout):
			fmt.Fprintf(log, "%s did not stop within %s; killing it\n", c.name, stopTimeout)
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-c.done
		}
	}
}

func exitStatus(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}
