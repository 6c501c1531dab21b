package devtemporal

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"
)

var errLocked = errors.New("locked by another process")

// tryLock takes an exclusive flock on path and returns the open file that holds it; closing the
// file (or the death of every process holding it) releases the lock, so a crashed holder never
// blocks the next caller. It returns errLocked when someone else holds the lock.
func tryLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, &fs.PathError{Op: "flock", Path: path, Err: err}
	}
	return f, nil
}

// waitLock is tryLock that waits for the lock until ctx ends.
func waitLock(ctx context.Context, path string) (*os.File, error) {
	for {
		f, err := tryLock(path)
		if !errors.Is(err, errLocked) {
			return f, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
