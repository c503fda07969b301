package perfdata

import (
	"io"
	"math"
	"sort"
)

var errEOF = io.EOF

// orderer reproduces perf's ordered_events (tools/perf/util/ordered-events.c)
// as perf script and perf report use it:
//
//   - a record with a timestamp is queued; one without (or with 0 or ~0)
//     is delivered at once, ahead of anything queued;
//   - the queue is kept sorted by timestamp, equal timestamps in queueing
//     order;
//   - max_timestamp becomes a queued record's time when the queue was
//     empty or the time is at least the largest queued one;
//   - at FINISHED_ROUND, if anything is queued, records up to next_flush are
//     delivered (none while next_flush is 0), then next_flush becomes
//     max_timestamp;
//   - at the end of the data everything is delivered.
type orderer struct {
	queue     []ordEntry // sorted up to sorted, then in arrival order
	sorted    int
	qmax      uint64
	maxTS     uint64
	nextFlush uint64
	ready     []ordEntry
	readyPos  int
	seq       uint64
	done      bool

	cur     *chunk // chunk being filled
	free    []*chunk
	prev    *chunk // chunk of the record delivered last
	pending ordEntry
}

type ordEntry struct {
	ts  uint64
	h   RecordHeader
	off int64
	b   []byte
	c   *chunk
}

// chunk is arena memory for queued record bytes, recycled once every record
// in it has been delivered.
type chunk struct {
	buf  []byte
	refs int
}

const chunkSize = 1 << 20

func (o *orderer) copyIn(b []byte) ([]byte, *chunk) {
	if o.cur == nil || len(o.cur.buf)+len(b) > cap(o.cur.buf) {
		if o.cur != nil && o.cur.refs == 0 && cap(o.cur.buf) == chunkSize {
			o.free = append(o.free, o.cur)
		}
		size := chunkSize
		if len(b) > size {
			size = len(b)
		}
		if n := len(o.free); n > 0 && size == chunkSize {
			o.cur = o.free[n-1]
			o.free = o.free[:n-1]
			o.cur.buf = o.cur.buf[:0]
		} else {
			o.cur = &chunk{buf: make([]byte, 0, size)}
		}
	}
	start := len(o.cur.buf)
	o.cur.buf = append(o.cur.buf, b...)
	o.cur.refs++
	return o.cur.buf[start:len(o.cur.buf):len(o.cur.buf)], o.cur
}

func (o *orderer) release(c *chunk) {
	if c == nil {
		return
	}
	c.refs--
	if c.refs == 0 && c != o.cur && cap(c.buf) == chunkSize {
		o.free = append(o.free, c)
	}
}

func (o *orderer) push(ts uint64, h RecordHeader, b []byte, off int64) {
	if len(o.queue) == 0 || ts >= o.qmax {
		o.qmax = ts
		o.maxTS = ts
	}
	cb, c := o.copyIn(b)
	o.queue = append(o.queue, ordEntry{ts: ts, h: h, off: off, b: cb, c: c})
}

// flush moves the deliverable queued records to ready.
func (o *orderer) flush(final bool) {
	if len(o.queue) == 0 {
		return
	}
	if final {
		o.nextFlush = math.MaxUint64
	}
	if limit := o.nextFlush; limit != 0 {
		if o.sorted < len(o.queue) {
			sort.SliceStable(o.queue, func(i, j int) bool { return o.queue[i].ts < o.queue[j].ts })
		}
		i := sort.Search(len(o.queue), func(i int) bool { return o.queue[i].ts > limit })
		o.ready = append(o.ready, o.queue[:i]...)
		n := copy(o.queue, o.queue[i:])
		for j := n; j < len(o.queue); j++ {
			o.queue[j] = ordEntry{}
		}
		o.queue = o.queue[:n]
		o.sorted = n
	}
	if !final {
		o.nextFlush = o.maxTS
	}
}

func (r *Reader) nextOrdered() (Record, error) {
	o := r.ord
	if o.prev != nil {
		o.release(o.prev)
		o.prev = nil
	}
	for {
		if o.readyPos < len(o.ready) {
			e := o.ready[o.readyPos]
			o.ready[o.readyPos] = ordEntry{}
			o.readyPos++
			if o.readyPos == len(o.ready) {
				o.ready, o.readyPos = o.ready[:0], 0
			}
			o.prev = e.c
			return r.decode(e.h, e.b, e.off)
		}
		if o.done {
			return nil, errEOF
		}
		h, b, off, err := r.nextRecord()
		if err == errEOF {
			o.done = true
			o.flush(true)
			continue
		}
		if err != nil {
			return nil, err
		}
		if ts, ok := r.f.timestamp(h, b); ok {
			o.push(ts, h, b, off)
			continue
		}
		if h.Type == RecordFinishedRound {
			// perf processes the round marker, then delivers what it
			// releases.
			cb, c := o.copyIn(b)
			o.ready = append(o.ready, ordEntry{h: h, off: off, b: cb, c: c})
			o.flush(false)
			continue
		}
		return r.decode(h, b, off)
	}
}
