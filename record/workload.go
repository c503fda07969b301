package record

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The workload is forked as a copy of this executable that waits, before
// exec, until the events are open on its pid (perf's
// evlist__prepare_workload in tools/perf/util/evlist.c does the same with
// fork): it is started as
//
//	/proc/self/exe <childArg> <path> <argv...>
//
// with fd 3 the read end of the "go" pipe and fd 4 the write end of an
// error pipe. The parent writes one byte to fd 3 to let it exec; if exec
// fails, the child writes the error to fd 4 and exits 127. fd 4 is
// close-on-exec, so EOF on it means exec succeeded.
const childArg = "__gperf_record_workload__"

// reaperArg starts a copy of this executable that only exits: see handOff.
const reaperArg = "__gperf_record_reaper__"

func init() {
	if len(os.Args) > 3 && os.Args[1] == childArg {
		workloadChild(os.Args[2], os.Args[3:])
	}
	if len(os.Args) == 2 && os.Args[1] == reaperArg {
		// Hold the inherited fds until the parent has closed its own
		// (it then closes our stdin), so the last close is ours.
		var b [1]byte
		unix.Read(0, b[:])
		os.Exit(0)
	}
}

// handOff gives copies of the counter fds to a short-lived child so that
// the last close of each event happens there. Freeing a tracepoint's last
// perf event waits for an RCU grace period
// (tracepoint_synchronize_unregister in kernel/trace/trace_event_perf.c),
// 30-40 ms here, and an exiting process waits for its files' release:
// handed off, that wait is no longer part of gperf's run time. On any
// failure the fds are simply closed here.
func handOff(fds []int) (release func()) {
	release = func() {}
	if len(fds) == 0 {
		return
	}
	self, err := os.Executable()
	if err != nil {
		return
	}
	files := make([]*os.File, len(fds))
	for i, fd := range fds {
		// dup: os.File owns its fd, and the caller closes the originals.
		d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			closeFiles(files[:i])
			return
		}
		files[i] = os.NewFile(uintptr(d), "perf_event")
	}
	cmd := exec.Command(self, reaperArg)
	cmd.Env = []string{"GOMAXPROCS=1", "GOGC=off"}
	cmd.ExtraFiles = files
	stdin, err := cmd.StdinPipe()
	if err != nil {
		closeFiles(files)
		return
	}
	err = cmd.Start()
	closeFiles(files)
	if err != nil {
		stdin.Close()
		return
	}
	go cmd.Wait()
	return func() { stdin.Close() }
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// workloadChild runs in the forked copy, on the main thread (the Go
// runtime locks init to it), so exec replaces the task the events were
// opened on.
func workloadChild(path string, argv []string) {
	// perf's child is called perf-exec until it execs; samples taken
	// before exec (none with enable_on_exec) would carry that name.
	name := []byte("perf-exec\x00")
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&name[0])), 0, 0, 0)
	unix.CloseOnExec(4)
	var b [1]byte
	n, _ := unix.Read(3, b[:])
	if n != 1 {
		os.Exit(127) // the parent gave up
	}
	unix.Close(3)
	// The workload gets gperf's environment: drop what startWorkload
	// added (named in childEnvVar).
	added := map[string]bool{childEnvVar: true}
	for _, k := range strings.Split(os.Getenv(childEnvVar), ",") {
		added[k] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !added[k] {
			env = append(env, kv)
		}
	}
	err := unix.Exec(path, argv, env)
	unix.Write(4, []byte(err.Error()))
	os.Exit(127)
}

// childEnv is added to the held child's environment when gperf's has
// none of these variables: a Go runtime that starts faster (no cgroup
// probing for GOMAXPROCS, no GC). childEnvVar lists what was added, and
// the child removes it before exec.
var childEnv = []string{"GOMAXPROCS=1", "GOGC=off"}

const childEnvVar = "GPERF_RECORD_CHILD_ENV"

// workload is a forked command held before exec.
type workload struct {
	cmd   *exec.Cmd
	goW   *os.File
	errR  *os.File
	pid   int
	state *os.ProcessState
	done  chan struct{}
}

// startWorkload forks argv held before exec. stdoutToStderr makes the
// workload's stdout our stderr (pipe mode: stdout carries perf.data).
func startWorkload(argv []string, stdoutToStderr bool) (*workload, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			err = ee.Err
		}
		return nil, fmt.Errorf("start workload %s: %w", argv[0], err)
	}
	self, err := os.Executable()
	if err != nil {
		self = "/proc/self/exe"
	}
	goR, goW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start workload %s: %w", argv[0], err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		goR.Close()
		goW.Close()
		return nil, fmt.Errorf("start workload %s: %w", argv[0], err)
	}
	cmd := exec.Command(self, append([]string{childArg, path}, argv...)...)
	cmd.Args[0] = argv[0]
	env := os.Environ()
	var added []string
	for _, kv := range childEnv {
		k, _, _ := strings.Cut(kv, "=")
		if _, set := os.LookupEnv(k); !set {
			env = append(env, kv)
			added = append(added, k)
		}
	}
	cmd.Env = append(env, childEnvVar+"="+strings.Join(added, ","))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if stdoutToStderr {
		cmd.Stdout = os.Stderr
	}
	cmd.ExtraFiles = []*os.File{goR, errW}
	err = cmd.Start()
	goR.Close()
	errW.Close()
	if err != nil {
		goW.Close()
		errR.Close()
		return nil, fmt.Errorf("start workload %s: %w", argv[0], err)
	}
	return &workload{cmd: cmd, goW: goW, errR: errR, pid: cmd.Process.Pid, done: make(chan struct{})}, nil
}

// release lets the workload exec, and reports an exec failure.
func (w *workload) release() error {
	_, err := w.goW.Write([]byte{1})
	w.goW.Close()
	if err != nil {
		return fmt.Errorf("release workload: %w", err)
	}
	msg := make([]byte, 512)
	n, _ := w.errR.Read(msg)
	w.errR.Close()
	if n > 0 {
		w.wait()
		return fmt.Errorf("exec workload %s: %s", w.cmd.Args[0], msg[:n])
	}
	go w.wait()
	return nil
}

// abort kills a workload that was never released.
func (w *workload) abort() {
	w.goW.Close()
	w.errR.Close()
	w.cmd.Process.Kill()
	w.wait()
}

func (w *workload) wait() {
	if w.state != nil {
		return
	}
	w.cmd.Wait()
	w.state = w.cmd.ProcessState
	close(w.done)
}

// ExitStatus is how the workload ended.
type ExitStatus struct {
	Code   int            // exit code when it exited
	Signal syscall.Signal // the signal that killed it, or 0
}

func (w *workload) status() ExitStatus {
	if w.state == nil {
		return ExitStatus{}
	}
	ws, ok := w.state.Sys().(syscall.WaitStatus)
	if !ok {
		return ExitStatus{Code: w.state.ExitCode()}
	}
	if ws.Signaled() {
		return ExitStatus{Code: 128 + int(ws.Signal()), Signal: ws.Signal()}
	}
	return ExitStatus{Code: ws.ExitStatus()}
}
