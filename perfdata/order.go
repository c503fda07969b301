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
	queue     []ordEntry // arrival order; sorted when unsorted is false
	qmax      uint64
	maxTS     uint64
	nextFlush uint64
	head, rel int // queue[head:rel] is released, not yet delivered
	round     ordEntry
	hasRound  bool // round (a FINISHED_ROUND) goes first
	done      bool

	pool     *chunkPool // shared with the source
	cur      *chunk     // chunk being filled by copyIn
	used     int
	prev     *chunk     // chunk of the record delivered last
	unsorted bool       // a record arrived with a time below qmax
	runs     []int      // sortQueue's run starts
	tmp      []ordEntry // sortQueue's merge buffer
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

// sortQueue sorts the queue by time, ties in arrival order: the queue is
// a few ascending runs (what is left of the last round, then each CPU's
// records of this one), merged pairwise.
func (o *orderer) sortQueue() {
	q := o.queue
	runs := append(o.runs[:0], 0)
	for i := 1; i < len(q); i++ {
		if q[i].ts < q[i-1].ts {
			runs = append(runs, i)
		}
	}
	if len(runs) > 1 {
		runs = append(runs, len(q))
		if cap(o.tmp) < len(q) {
			o.tmp = make([]ordEntry, len(q), len(q)+len(q)/4)
		}
		src, dst := q, o.tmp[:len(q)]
		for len(runs) > 2 {
			k := 0
			for j := 0; j+1 < len(runs); j += 2 {
				lo := runs[j]
				if j+2 < len(runs) {
					mid, hi := runs[j+1], runs[j+2]
					mergeEntries(dst[lo:hi], src[lo:mid], src[mid:hi])
				} else {
					copy(dst[lo:runs[j+1]], src[lo:runs[j+1]])
				}
				runs[k] = lo
				k++
			}
			runs[k] = len(q)
			runs = runs[:k+1]
			src, dst = dst, src
		}
		if &src[0] != &q[0] {
			copy(q, src)
		}
		clear(o.tmp[:len(q)])
	}
	o.runs = runs
}

// mergeEntries merges the sorted a and b into dst, a first on ties.
func mergeEntries(dst, a, b []ordEntry) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if b[j].ts < a[i].ts {
			dst[k] = b[j]
			j++
		} else {
			dst[k] = a[i]
			i++
		}
		k++
	}
	k += copy(dst[k:], a[i:])
	copy(dst[k:], b[j:])
}

// flush releases the deliverable queued records: queue[:rel], delivered
// from head on.
func (o *orderer) flush(final bool) {
	if len(o.queue) == 0 {
		return
	}
	if final {
		o.nextFlush = math.MaxUint64
	}
	if limit := o.nextFlush; limit != 0 {
		if o.unsorted {
			o.sortQueue()
			o.unsorted = false
		}
		o.rel = sort.Search(len(o.queue), func(i int) bool { return o.queue[i].ts > limit })
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
		if o.hasRound {
			o.hasRound = false
			e := o.round
			o.round = ordEntry{}
			o.prev = e.c
			return r.decode(e.h, e.bytes(), e.off)
		}
		if o.head < o.rel {
			e := o.queue[o.head]
			o.queue[o.head] = ordEntry{}
			o.head++
			o.prev = e.c
			return r.decode(e.h, e.bytes(), e.off)
		}
		if o.head > 0 {
			// All released records delivered: drop them.
			n := copy(o.queue, o.queue[o.head:])
			clear(o.queue[n:])
			o.queue = o.queue[:n]
			o.head, o.rel = 0, 0
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
			o.round, o.hasRound = o.entry(0, h, b, off, c, pos), true
			o.flush(false)
			continue
		}
		return r.decode(h, b, off)
	}
}
