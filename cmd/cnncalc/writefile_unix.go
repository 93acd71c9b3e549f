//go:build unix

package main

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// fileOwner reads a file's owner, group and hard-link count.
func fileOwner(st fs.FileInfo) (uid, gid int, nlink uint64, ok bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, 0, false
	}
	return int(s.Uid), int(s.Gid), uint64(s.Nlink), true
}

// canWrite asks the kernel whether the real user may write the target
// (access(2) W_OK: mode bits, ACLs, a read-only file system).
func canWrite(t target) error {
	if !t.exists {
		return nil
	}
	return unix.Access(t.path, unix.W_OK)
}

// sameOwner gives a new file the target's owner and group: both when
// running as root, else the group (which a member may set); an error when
// that cannot be done.
func sameOwner(f *os.File, t target) error {
	if !t.owned {
		return nil
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	uid, gid, _, ok := fileOwner(st)
	if !ok || (uid == t.uid && gid == t.gid) {
		return nil
	}
	if os.Geteuid() == 0 {
		return f.Chown(t.uid, t.gid)
	}
	if uid != t.uid {
		return errOwner
	}
	return f.Chown(-1, t.gid)
}
