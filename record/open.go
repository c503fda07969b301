package record

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gperf-dev/gperf/perfdata"
)

// ErrNotSupported is wrapped by errors saying the kernel or the machine
// lacks an event (no PMU for hardware events, an unknown config).
var ErrNotSupported = errors.New("not supported")

// ErrPermission is wrapped by errors caused by missing privileges
// (perf_event_paranoid, CAP_PERFMON, tracefs permissions).
var ErrPermission = errors.New("permission denied")

// unixAttr converts a perfdata attr to the kernel's struct.
func unixAttr(a *perfdata.EventAttr) unix.PerfEventAttr {
	return unix.PerfEventAttr{
		Type:               uint32(a.Type),
		Size:               a.Size,
		Config:             a.Config,
		Sample:             a.SamplePeriod,
		Sample_type:        uint64(a.SampleType),
		Read_format:        uint64(a.ReadFormat),
		Bits:               uint64(a.Flags),
		Wakeup:             a.WakeupEvents,
		Bp_type:            a.BPType,
		Ext1:               a.Config1,
		Ext2:               a.Config2,
		Branch_sample_type: a.BranchSampleType,
		Sample_regs_user:   a.SampleRegsUser,
		Sample_stack_user:  a.SampleStackUser,
		Clockid:            a.ClockID,
		Sample_regs_intr:   a.SampleRegsIntr,
		Aux_watermark:      a.AuxWatermark,
		Sample_max_stack:   a.SampleMaxStack,
		Aux_sample_size:    a.AuxSampleSize,
		Sig_data:           a.SigData,
	}
}

// counter is one kernel event: an evsel opened on one CPU for one thread.
type counter struct {
	fd        int
	id        uint64
	cpu       int // CPU number (-1: any)
	cpuIdx    int // index in the session's CPU list
	tid       int // thread (-1: all)
	threadIdx int
}

// openCounter opens one event and reads its sample ID.
func openCounter(a *perfdata.EventAttr, name string, pid, cpu int) (int, uint64, error) {
	ua := unixAttr(a)
	fd, err := unix.PerfEventOpen(&ua, pid, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return -1, 0, openError(name, pid, cpu, err)
	}
	var id uint64
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.PERF_EVENT_IOC_ID, uintptr(unsafe.Pointer(&id))); e != 0 {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("read id of event %s: %w", name, os.NewSyscallError("ioctl PERF_EVENT_IOC_ID", e))
	}
	return fd, id, nil
}

// openError turns a perf_event_open errno into meaning, as perf's
// evsel__open_strerror does (tools/perf/util/evsel.c).
func openError(name string, pid, cpu int, err error) error {
	where := fmt.Sprintf("cpu %d", cpu)
	if pid >= 0 {
		where = fmt.Sprintf("pid %d, %s", pid, where)
	}
	switch {
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		p, _ := os.ReadFile("/proc/sys/kernel/perf_event_paranoid")
		return fmt.Errorf("open event %s (%s): %w: perf_event_paranoid is %s; run as root, grant CAP_PERFMON, or lower /proc/sys/kernel/perf_event_paranoid",
			name, where, ErrPermission, strings.TrimSpace(string(p)))
	case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
		return fmt.Errorf("open event %s (%s): too many open files (%w); raise the limit with 'ulimit -n'", name, where, err)
	case errors.Is(err, unix.ESRCH):
		return fmt.Errorf("open event %s (%s): no such process: %w", name, where, err)
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
		return fmt.Errorf("open event %s (%s): %w on this machine (%w)", name, where, ErrNotSupported, err)
	}
	return fmt.Errorf("open event %s (%s): %w", name, where, os.NewSyscallError("perf_event_open", err))
}

func ioctl(fd int, req uint, arg uintptr) error {
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), arg); e != 0 {
		return e
	}
	return nil
}

// setFilter applies a tracepoint filter (PERF_EVENT_IOC_SET_FILTER).
func setFilter(fd int, filter string) error {
	b, err := unix.BytePtrFromString(filter)
	if err != nil {
		return err
	}
	return ioctl(fd, unix.PERF_EVENT_IOC_SET_FILTER, uintptr(unsafe.Pointer(b)))
}
