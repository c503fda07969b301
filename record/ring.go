package record

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ringBuffer is the consumer side of a perf_event ring buffer: the kernel
// advances the head as it writes records, the reader advances the tail as
// it consumes them. It is an interface so that wrap-around can be tested
// with fake rings and no kernel.
type ringBuffer interface {
	// head loads data_head with acquire semantics (it pairs with the
	// kernel's smp_store_release in perf_output_put_handle).
	head() uint64
	// tail returns data_tail as last stored by the reader.
	tail() uint64
	// setTail stores data_tail with release semantics, handing the
	// consumed bytes back to the kernel.
	setTail(uint64)
	// data is the ring's data area; its length is a power of two.
	data() []byte
}

// drainRing appends every complete record between the ring's tail and head
// to dst, unwrapped, advances the tail and returns the extended buffer. It
// never splits a record: the kernel only publishes heads at record
// boundaries.
func drainRing(r ringBuffer, dst []byte) ([]byte, error) {
	head := r.head()
	tail := r.tail()
	if head == tail {
		return dst, nil
	}
	d := r.data()
	size := uint64(len(d))
	if head-tail > size {
		// Only possible if the kernel overwrote data we had not read,
		// which it does not do for forward rings; refuse rather than
		// copy garbage.
		return dst, fmt.Errorf("read ring: head %#x is more than %d bytes past tail %#x", head, size, tail)
	}
	mask := size - 1
	start, end := tail&mask, head&mask
	if start < end {
		dst = append(dst, d[start:end]...)
	} else {
		dst = append(dst, d[start:]...)
		dst = append(dst, d[:end]...)
	}
	r.setTail(head)
	return dst, nil
}

// mmapRing is a ringBuffer over the pages the kernel maps for a perf event
// fd: one metadata page (struct perf_event_mmap_page) followed by 2^n data
// pages.
type mmapRing struct {
	mem  []byte
	meta *unix.PerfEventMmapPage
	buf  []byte
}

// mapRing maps a ring of dataPages pages (a power of two) on fd.
func mapRing(fd int, dataPages int) (*mmapRing, error) {
	pg := unix.Getpagesize()
	mem, err := unix.Mmap(fd, 0, (dataPages+1)*pg, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap ring of %d pages: %w", dataPages, err)
	}
	meta := (*unix.PerfEventMmapPage)(unsafe.Pointer(&mem[0]))
	off, size := uint64(pg), uint64(dataPages*pg)
	// Kernels since 4.1 say where the data area is; older ones put it
	// right after the first page.
	if meta.Data_offset != 0 {
		off, size = meta.Data_offset, meta.Data_size
	}
	if off+size > uint64(len(mem)) {
		unix.Munmap(mem)
		return nil, fmt.Errorf("mmap ring: data area %#x+%#x beyond the mapping", off, size)
	}
	return &mmapRing{mem: mem, meta: meta, buf: mem[off : off+size]}, nil
}

func (r *mmapRing) head() uint64     { return atomic.LoadUint64(&r.meta.Data_head) }
func (r *mmapRing) tail() uint64     { return atomic.LoadUint64(&r.meta.Data_tail) }
func (r *mmapRing) setTail(t uint64) { atomic.StoreUint64(&r.meta.Data_tail, t) }
func (r *mmapRing) data() []byte     { return r.buf }
func (r *mmapRing) close() error     { return unix.Munmap(r.mem) }

// Record types the recorder looks at while draining
// (enum perf_event_type in include/uapi/linux/perf_event.h).
const (
	recordMmap          = 1
	recordLost          = 2
	recordComm          = 3
	recordExit          = 4
	recordFork          = 7
	recordSample        = 9
	recordMmap2         = 10
	recordLostSamples   = 13
	recordFinishedRound = 68
	recordFinishedInit  = 82
)

// recordHeader is struct perf_event_header.
type recordHeader struct {
	Type uint32
	Misc uint16
	Size uint16
}

func readHeader(b []byte) recordHeader {
	return recordHeader{
		Type: binary.LittleEndian.Uint32(b),
		Misc: binary.LittleEndian.Uint16(b[4:]),
		Size: binary.LittleEndian.Uint16(b[6:]),
	}
}
