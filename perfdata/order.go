package perfdata

import (
	"cmp"
	"io"
	"math"
	"slices"
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
	queue     []ordEntry // arrival order; sorted when unsorted is false
	qmax      uint64
	maxTS     uint64
	nextFlush uint64
	ready     []ordEntry
	readyPos  int
	seq       uint64
	done      bool

	pool     *chunkPool // shared with the source
	cur      *chunk     // chunk being filled by copyIn
	used     int
	prev     *chunk // chunk of the record delivered last
	unsorted bool   // a record arrived with a time below qmax
}

type ordEntry struct {
	ts  uint64
	off int64
	c   *chunk
	pos uint32 // the record is c.buf[pos:pos+h.Size]
	h   RecordHeader
}

func (e *ordEntry) bytes() []byte {
	end := int(e.pos) + int(e.h.Size)
	return e.c.buf[e.pos:end:end]
}

// chunk is memory that records are read into or copied to, recycled once
// nothing references it: not its producer (live) and no queued record
// (refs).
type chunk struct {
	buf  []byte
	refs int
	live bool
}

// bytes returns buf[i:j]; none for a nil chunk.
func (c *chunk) bytes(i, j int) []byte {
	if c == nil {
		return nil
	}
	return c.buf[i:j]
}

const chunkSize = 1 << 20

// chunkPool recycles chunks of chunkSize bytes.
type chunkPool struct {
	free []*chunk
}

// get returns a live chunk of at least n bytes (len == cap).
func (p *chunkPool) get(n int) *chunk {
	if k := len(p.free); k > 0 && n <= chunkSize {
		c := p.free[k-1]
		p.free = p.free[:k-1]
		c.live = true
		return c
	}
	size := chunkSize
	if n > size {
		size = n
	}
	return &chunk{buf: make([]byte, size), live: true}
}

// drop ends the producer's use of c.
func (p *chunkPool) drop(c *chunk) {
	c.live = false
	p.recycle(c)
}

func (p *chunkPool) recycle(c *chunk) {
	if c.refs == 0 && !c.live && len(c.buf) == chunkSize {
		p.free = append(p.free, c)
	}
}

func (p *chunkPool) release(c *chunk) {
	if c == nil {
		return
	}
	c.refs--
	p.recycle(c)
}

// copyIn copies b into the orderer's own chunk (records that do not lie in
// the source's chunks: decompressed, replayed) and returns where.
func (o *orderer) copyIn(b []byte) (*chunk, uint32) {
	if o.cur == nil || o.used+len(b) > len(o.cur.buf) {
		if o.cur != nil {
			o.pool.drop(o.cur)
		}
		o.cur, o.used = o.pool.get(len(b)), 0
	}
	pos := o.used
	o.used += copy(o.cur.buf[pos:], b)
	return o.cur, uint32(pos)
}

// entry makes the queue entry of a record: c is the chunk b lies in, nil
// to copy it.
func (o *orderer) entry(ts uint64, h RecordHeader, b []byte, off int64, c *chunk, pos uint32) ordEntry {
	if c == nil {
		c, pos = o.copyIn(b[:h.Size])
	}
	c.refs++
	return ordEntry{ts: ts, off: off, c: c, pos: pos, h: h}
}

func (o *orderer) push(ts uint64, h RecordHeader, b []byte, off int64, c *chunk, pos uint32) {
	if len(o.queue) == 0 || ts >= o.qmax {
		o.qmax = ts
		o.maxTS = ts
	} else {
		o.unsorted = true
	}
	o.queue = append(o.queue, o.entry(ts, h, b, off, c, pos))
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
		if o.unsorted {
			slices.SortStableFunc(o.queue, func(a, b ordEntry) int { return cmp.Compare(a.ts, b.ts) })
			o.unsorted = false
		}
		i := sort.Search(len(o.queue), func(i int) bool { return o.queue[i].ts > limit })
		o.ready = append(o.ready, o.queue[:i]...)
		n := copy(o.queue, o.queue[i:])
		for j := n; j < len(o.queue); j++ {
			o.queue[j] = ordEntry{}
		}
		o.queue = o.queue[:n]
	}
	if !final {
		o.nextFlush = o.maxTS
	}
}

func (r *Reader) nextOrdered() (Record, error) {
	o := r.ord
	if o.prev != nil {
		o.pool.release(o.prev)
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
			return r.decode(e.h, e.bytes(), e.off)
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
			c, pos := r.chunkOf()
			o.push(ts, h, b, off, c, pos)
			continue
		}
		if h.Type == RecordFinishedRound {
			// perf processes the round marker, then delivers what it
			// releases.
			c, pos := r.chunkOf()
			o.ready = append(o.ready, o.entry(0, h, b, off, c, pos))
			o.flush(false)
			continue
		}
		return r.decode(h, b, off)
	}
}
