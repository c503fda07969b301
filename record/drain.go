package record

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// A cpuReader drains one CPU's ring on its own goroutine, locked to an OS
// thread pinned to that CPU: it wakes up (epoll) when the kernel crosses the
// ring's watermark, copies everything between tail and head into a chunk,
// hands the ring space back at once and passes the chunk to the writer. The
// copy is what makes draining prompt: the ring never waits for the disk.
type cpuReader struct {
	cpu   int // CPU number, -1 for a per-thread ring
	ring  *mmapRing
	epfd  int
	fds   []int // every counter fd on this CPU (for POLLHUP)
	out   chan<- chunk
	pool  *chunkPool
	epoch *atomic.Uint64 // last FINISHED_ROUND index the writer emitted
	stop  *atomic.Bool   // set when the session ends: drain and exit
	kick  int            // eventfd that wakes the reader for the final drain
	st    *stats

	hups    *atomic.Int64 // counters gone (POLLHUP), over all readers
	wakeups uint64
}

// chunk is what one drain pass of one reader copied.
type chunk struct {
	reader *cpuReader
	data   []byte // records, nil for a pass that found the ring empty
	epoch  uint64 // writer epoch seen when the pass started
	last   bool   // the reader's final pass
	err    error
}

// chunkPool recycles chunk buffers and bounds the memory in flight between
// readers and the writer.
type chunkPool struct {
	free chan []byte
	size int
}

func newChunkPool(n, size int) *chunkPool {
	p := &chunkPool{free: make(chan []byte, n), size: size}
	for i := 0; i < n; i++ {
		p.free <- make([]byte, 0, size)
	}
	return p
}

func (p *chunkPool) get() []byte  { return (<-p.free)[:0] }
func (p *chunkPool) put(b []byte) { p.free <- b }

// stats are the per-reader counts of what went through the rings; the
// writer sums them.
type stats struct {
	samples     uint64
	lostRecords uint64 // PERF_RECORD_LOST records
	lost        uint64 // samples they say were lost
	records     uint64
	firstTime   uint64
	lastTime    uint64
	timeOff     int // offset of the sample time in a sample record, -1 if none
	ipOff       int // offset of the sample ip
	tidOff      int // offset of the sample pid
	// hits: user-space code pages (pid<<40 ^ page) that got samples, and
	// whether the kernel did, for the build-id table.
	kernelHit bool
	userHits  map[uint64]struct{}
	lastHit   uint64
	mmaps     []mmapSeen
}

// mmapSeen is an executable mapping the kernel reported while recording.
type mmapSeen struct {
	pid              uint32
	addr, len, pgoff uint64
	filename         string
}

const (
	miscCPUModeMask = 7
	miscKernel      = 1
	miscUser        = 2
	miscGuestKernel = 4
	protExec        = 4
)

// scan walks the records of one chunk and accounts for them.
func (s *stats) scan(b []byte) error {
	for len(b) >= 8 {
		h := readHeader(b)
		if h.Size < 8 || int(h.Size) > len(b) {
			return fmt.Errorf("ring record of type %d: bad size %d (%d bytes left)", h.Type, h.Size, len(b))
		}
		rec := b[:h.Size]
		s.records++
		switch h.Type {
		case recordSample:
			s.samples++
			if s.timeOff >= 0 && s.timeOff+8 <= len(rec) {
				t := binary.LittleEndian.Uint64(rec[s.timeOff:])
				if s.firstTime == 0 || t < s.firstTime {
					s.firstTime = t
				}
				if t > s.lastTime {
					s.lastTime = t
				}
			}
			s.hit(h.Misc, rec)
		case recordLost:
			s.lostRecords++
			if len(rec) >= 24 {
				s.lost += binary.LittleEndian.Uint64(rec[16:])
			}
		case recordMmap2:
			// pid, tid, addr, len, pgoff, maj, min, ino, ino_gen, prot, flags, filename
			if len(rec) >= 72 {
				prot := binary.LittleEndian.Uint32(rec[64:])
				if prot&protExec != 0 {
					s.mmaps = append(s.mmaps, mmapSeen{
						pid:      binary.LittleEndian.Uint32(rec[8:]),
						addr:     binary.LittleEndian.Uint64(rec[16:]),
						len:      binary.LittleEndian.Uint64(rec[24:]),
						pgoff:    binary.LittleEndian.Uint64(rec[32:]),
						filename: cString(rec[72:]),
					})
				}
			}
		}
		b = b[h.Size:]
	}
	if len(b) != 0 {
		return fmt.Errorf("ring: %d bytes of a truncated record", len(b))
	}
	return nil
}

// hit notes the code a sample landed in (perf marks the DSO of the sample
// IP only: build_id__mark_dso_hit in tools/perf/util/build-id.c).
func (s *stats) hit(misc uint16, rec []byte) {
	switch misc & miscCPUModeMask {
	case miscKernel:
		s.kernelHit = true
	case miscUser:
		if s.ipOff < 0 || s.ipOff+8 > len(rec) || s.tidOff < 0 || s.tidOff+4 > len(rec) {
			return
		}
		ip := binary.LittleEndian.Uint64(rec[s.ipOff:])
		pid := binary.LittleEndian.Uint32(rec[s.tidOff:])
		k := uint64(pid)<<40 ^ ip>>12
		if k == s.lastHit && s.userHits != nil {
			return
		}
		s.lastHit = k
		if s.userHits == nil {
			s.userHits = map[uint64]struct{}{}
		}
		s.userHits[k] = struct{}{}
	}
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// run is the reader's loop.
func (r *cpuReader) run(wg *sync.WaitGroup) {
	defer wg.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if r.cpu >= 0 {
		var set unix.CPUSet
		set.Set(r.cpu)
		unix.SchedSetaffinity(0, &set) // best effort: a reader may run anywhere
	}
	events := make([]unix.EpollEvent, 16)
	var sentEpoch uint64 = ^uint64(0)
	for {
		stopping := r.stop.Load()
		epoch := r.epoch.Load()
		buf := r.pool.get()
		buf, err := drainRing(r.ring, buf)
		if err == nil {
			err = r.st.scan(buf)
		}
		switch {
		case err != nil || len(buf) > 0 || stopping:
			r.out <- chunk{reader: r, data: buf, epoch: epoch, last: stopping, err: err}
			sentEpoch = epoch
		case epoch != sentEpoch:
			r.pool.put(buf)
			r.out <- chunk{reader: r, epoch: epoch}
			sentEpoch = epoch
		default:
			r.pool.put(buf)
		}
		if stopping || err != nil {
			return
		}
		n, err := unix.EpollWait(r.epfd, events, 100)
		if err != nil && err != unix.EINTR {
			r.out <- chunk{reader: r, err: fmt.Errorf("epoll_wait: %w", err), last: true}
			return
		}
		woke := false
		for _, ev := range events[:max(n, 0)] {
			if int(ev.Fd) == r.kick {
				continue
			}
			if ev.Events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				unix.EpollCtl(r.epfd, unix.EPOLL_CTL_DEL, int(ev.Fd), nil)
				r.hups.Add(1)
				continue
			}
			woke = true
		}
		if woke {
			r.wakeups++
		}
	}
}
