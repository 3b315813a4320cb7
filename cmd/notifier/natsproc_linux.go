package main

import "syscall"

// natsProcAttr puts the NATS server's process in a process group of its
// own, so that ^C in a terminal reaches only bench, which then stops it in
// its turn, and has the kernel send it SIGTERM should bench die first.
func natsProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
